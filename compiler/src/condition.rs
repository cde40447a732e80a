//! Step conditions: the `when` language, parsed, type-checked and rendered for Argo.
//!
//! Takes: a condition's text, such as `evaluate.auc >= MIN_AUC && !dry_run`. Gives: its
//! syntax tree or an error naming the column; the values it reads; a type check against the
//! outputs and parameters those values name; and its Argo Workflows form (a govaluate
//! expression over `{{tasks.<step>.outputs.parameters.<output>}}` and
//! `{{workflow.parameters.<name>}}`).
//!
//! Grammar: `or := and ("||" and)*`, `and := unary ("&&" unary)*`, `unary := "!" unary |
//! cmp`, `cmp := atom (op atom)?`, `atom := "(" or ")" | value`, where a value is
//! `step.output`, a parameter name, a number, a 'string' or "string", `true` or `false`.

use crate::spec::ValueType;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(Value, Op, Value),
    Value(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An output of a step: `step.output`.
    Output(String, String),
    Parameter(String),
    Number(String),
    Text(String),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// A parse error: the 1-based column in the condition and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub column: usize,
    pub message: String,
}

pub fn parse(text: &str) -> Result<Expr, Error> {
    let mut p = Parser {
        chars: text.chars().collect(),
        at: 0,
    };
    let e = p.or()?;
    p.skip_space();
    if p.at < p.chars.len() {
        return Err(p.error(format!("unexpected `{}`", p.chars[p.at])));
    }
    Ok(e)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn error(&self, message: String) -> Error {
        Error {
            column: self.at + 1,
            message,
        }
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        self.skip_space();
        let n = s.chars().count();
        if self.chars.len() >= self.at + n && self.chars[self.at..self.at + n].iter().copied().eq(s.chars()) {
            self.at += n;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, Error> {
        let mut e = self.and()?;
        while self.eat("||") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, Error> {
        let mut e = self.unary()?;
        while self.eat("&&") {
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        self.skip_space();
        if self.chars.get(self.at) == Some(&'!') && self.chars.get(self.at + 1) != Some(&'=') {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat("(") {
            let e = self.or()?;
            if !self.eat(")") {
                return Err(self.error("expected `)`".into()));
            }
            return Ok(e);
        }
        let left = self.value()?;
        for op in [Op::Eq, Op::Ne, Op::Le, Op::Ge, Op::Lt, Op::Gt] {
            if self.eat(op.text()) {
                return Ok(Expr::Cmp(left, op, self.value()?));
            }
        }
        if self.eat("=") {
            self.at -= 1;
            return Err(self.error("`=` is not a comparison: write `==`".into()));
        }
        Ok(Expr::Value(left))
    }

    fn value(&mut self) -> Result<Value, Error> {
        self.skip_space();
        let start = self.at;
        let Some(&c) = self.chars.get(self.at) else {
            return Err(self.error("expected a value: `step.output`, a parameter, a number or a 'string'".into()));
        };
        if c == '\'' || c == '"' {
            self.at += 1;
            let from = self.at;
            while self.chars.get(self.at).is_some_and(|&x| x != c) {
                self.at += 1;
            }
            if self.at == self.chars.len() {
                self.at = start;
                return Err(self.error("this string has no closing quote".into()));
            }
            let text: String = self.chars[from..self.at].iter().collect();
            self.at += 1;
            if text.contains(['\'', '\\', '{', '}']) {
                self.at = start;
                return Err(self.error("a string in a condition cannot hold quotes, `\\`, `{` or `}`".into()));
            }
            return Ok(Value::Text(text));
        }
        let word = |c: char| c.is_ascii_alphanumeric() || "_-.+".contains(c);
        while self.chars.get(self.at).is_some_and(|&x| word(x)) {
            self.at += 1;
        }
        let token: String = self.chars[start..self.at].iter().collect();
        if token.is_empty() {
            return Err(self.error(format!("expected a value, found `{c}`")));
        }
        let is_name = |s: &str| {
            s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        };
        if token.starts_with(|c: char| c.is_ascii_digit() || "-+.".contains(c)) {
            return match token.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Value::Number(token)),
                _ => {
                    self.at = start;
                    Err(self.error(format!("`{token}` is not a number")))
                }
            };
        }
        match token.split_once('.') {
            _ if token == "true" => Ok(Value::Bool(true)),
            _ if token == "false" => Ok(Value::Bool(false)),
            None if is_name(&token) => Ok(Value::Parameter(token)),
            Some((step, output)) if is_name(step) && is_name(output) => {
                Ok(Value::Output(step.to_string(), output.to_string()))
            }
            _ => {
                self.at = start;
                Err(self.error(format!(
                    "`{token}` is not a value: write `step.output`, a parameter name, a number or a 'string'"
                )))
            }
        }
    }
}

impl Expr {
    /// Every step output and parameter the condition reads, in order.
    pub fn values(&self) -> Vec<&Value> {
        match self {
            Expr::Or(a, b) | Expr::And(a, b) => {
                let mut v = a.values();
                v.extend(b.values());
                v
            }
            Expr::Not(e) => e.values(),
            Expr::Cmp(a, _, b) => vec![a, b],
            Expr::Value(v) => vec![v],
        }
    }

    /// Checks the types: comparisons of like with like, order comparisons of numbers, and
    /// booleans where a truth value is needed. `type_of` gives a step output's or a
    /// parameter's type (the references are checked before).
    pub fn check(&self, type_of: &dyn Fn(&Value) -> ValueType) -> Result<(), String> {
        let ty = |v: &Value| match v {
            Value::Number(_) => ValueType::Number,
            Value::Text(_) => ValueType::String,
            Value::Bool(_) => ValueType::Bool,
            other => type_of(other),
        };
        match self {
            Expr::Or(a, b) | Expr::And(a, b) => {
                a.check(type_of)?;
                b.check(type_of)
            }
            Expr::Not(e) => e.check(type_of),
            Expr::Value(v) => match ty(v) {
                ValueType::Bool => Ok(()),
                t => Err(format!(
                    "{} is a {}, not true or false: compare it, such as `{} == ...`",
                    describe(v),
                    name(t),
                    source(v)
                )),
            },
            Expr::Cmp(a, op, b) => {
                let (ta, tb) = (ty(a), ty(b));
                if let Some(file) = [a, b].into_iter().find(|v| ty(v) == ValueType::File) {
                    return Err(format!(
                        "{} is a file, which a condition cannot read: declare a value output (string, number or bool) for it",
                        describe(file)
                    ));
                }
                if ta != tb {
                    return Err(format!(
                        "{} is a {} and {} is a {}: `{}` compares values of one type",
                        describe(a),
                        name(ta),
                        describe(b),
                        name(tb),
                        op.text()
                    ));
                }
                if !matches!(op, Op::Eq | Op::Ne) && ta != ValueType::Number {
                    return Err(format!(
                        "`{}` compares numbers; {} is a {}",
                        op.text(),
                        describe(a),
                        name(ta)
                    ));
                }
                Ok(())
            }
        }
    }

    /// The condition as Argo Workflows evaluates it: references become Argo variables,
    /// string values are quoted after substitution.
    pub fn argo(&self, type_of: &dyn Fn(&Value) -> ValueType) -> String {
        let value = |v: &Value| match v {
            Value::Output(step, output) => {
                quote(format!("{{{{tasks.{step}.outputs.parameters.{output}}}}}"), type_of(v))
            }
            Value::Parameter(p) => quote(format!("{{{{workflow.parameters.{p}}}}}"), type_of(v)),
            Value::Number(n) => n.clone(),
            Value::Text(t) => format!("'{t}'"),
            Value::Bool(b) => b.to_string(),
        };
        let group = |e: &Expr| match e {
            Expr::Or(..) => format!("({})", e.argo(type_of)),
            _ => e.argo(type_of),
        };
        match self {
            Expr::Or(a, b) => format!("{} || {}", a.argo(type_of), b.argo(type_of)),
            Expr::And(a, b) => format!("{} && {}", group(a), group(b)),
            Expr::Not(e) => match **e {
                Expr::Value(_) | Expr::Not(_) => format!("!{}", e.argo(type_of)),
                _ => format!("!({})", e.argo(type_of)),
            },
            Expr::Cmp(a, op, b) => format!("{} {} {}", value(a), op.text(), value(b)),
            Expr::Value(v) => value(v),
        }
    }
}

fn quote(var: String, t: ValueType) -> String {
    match t {
        ValueType::String => format!("'{var}'"),
        _ => var,
    }
}

fn name(t: ValueType) -> &'static str {
    match t {
        ValueType::String => "string",
        ValueType::Number => "number",
        ValueType::Bool => "boolean",
        ValueType::File => "file",
    }
}

fn source(v: &Value) -> String {
    match v {
        Value::Output(s, o) => format!("{s}.{o}"),
        Value::Parameter(p) => p.clone(),
        Value::Number(n) => n.clone(),
        Value::Text(t) => format!("'{t}'"),
        Value::Bool(b) => b.to_string(),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Output(s, o) => format!("output `{o}` of step `{s}`"),
        Value::Parameter(p) => format!("parameter `{p}`"),
        other => format!("`{}`", source(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(v: &Value) -> ValueType {
        match v {
            Value::Output(_, o) if o == "passed" => ValueType::Bool,
            Value::Output(_, o) if o == "stage" => ValueType::String,
            Value::Output(_, o) if o == "model" => ValueType::File,
            _ => ValueType::Number,
        }
    }

    #[test]
    fn conditions_render_as_argo_expressions() {
        for (text, argo) in [
            (
                "evaluate.auc >= MIN_AUC",
                "{{tasks.evaluate.outputs.parameters.auc}} >= {{workflow.parameters.MIN_AUC}}",
            ),
            (
                "check.passed && (evaluate.stage == 'prod' || evaluate.auc > 0.9)",
                "{{tasks.check.outputs.parameters.passed}} && ('{{tasks.evaluate.outputs.parameters.stage}}' == 'prod' || {{tasks.evaluate.outputs.parameters.auc}} > 0.9)",
            ),
            ("!check.passed", "!{{tasks.check.outputs.parameters.passed}}"),
            ("!(a.x < -1.5e3)", "!({{tasks.a.outputs.parameters.x}} < -1.5e3)"),
        ] {
            let e = parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            e.check(&types).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(e.argo(&types), argo, "{text}");
        }
    }

    #[test]
    fn syntax_errors_name_their_column() {
        for (text, column, message) in [
            ("evaluate.auc = 1", 14, "write `==`"),
            ("evaluate.auc >=", 16, "expected a value"),
            ("(a.x > 1", 9, "expected `)`"),
            ("a.x > 1 b", 9, "unexpected `b`"),
            ("a.x == 'open", 8, "no closing quote"),
            ("a.b.c > 1", 1, "is not a value"),
            ("a.x > 1.2.3", 7, "is not a number"),
        ] {
            let e = parse(text).expect_err(text);
            assert_eq!(e.column, column, "{text}: {e:?}");
            assert!(e.message.contains(message), "{text}: {e:?}");
        }
    }

    #[test]
    fn type_mismatches_are_refused() {
        for (text, message) in [
            ("evaluate.auc >= 'high'", "is a number and `'high'` is a string"),
            ("evaluate.stage > 'a'", "`>` compares numbers"),
            ("evaluate.auc", "is a number, not true or false"),
            ("check.passed == 1", "is a boolean and `1` is a number"),
            ("train.model == 'x'", "is a file, which a condition cannot read"),
        ] {
            let e = parse(text).expect(text);
            let err = e.check(&types).expect_err(text);
            assert!(err.contains(message), "{text}: {err}");
        }
    }
}
