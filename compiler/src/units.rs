//! Kubernetes quantities, durations and cron schedules.
//!
//! Takes: strings from the spec. Gives: parsed values and the canonical text Kubernetes
//! itself would write back, so that GitOps engines see no drift ("1000m" becomes "1").

/// A quantity as an exact count of milli-units, with the suffix family the user chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity {
    pub milli: u128,
    pub binary: bool,
}

const BINARY: &[(&str, u32)] = &[("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)];
const DECIMAL: &[(&str, i32)] = &[
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

impl Quantity {
    /// Parse "500m", "2", "0.5", "8Gi", "1e3", "1.5G". Refuses negatives, fractions of a
    /// milli-unit, and absurd sizes.
    pub fn parse(s: &str) -> Result<Quantity, String> {
        let s = s.trim();
        let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
        let (num, suffix) = s.split_at(split);
        if num.is_empty() || num.matches('.').count() > 1 || num == "." {
            return Err(format!("`{s}` is not a quantity"));
        }
        let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
        if int_part.len() > 18 || frac_part.len() > 9 {
            return Err(format!("`{s}` has too many digits"));
        }
        // Value in nano-units, exact.
        let nano_num: u128 = format!("{int_part}{frac_part:0<9}")
            .parse()
            .map_err(|_| format!("`{s}` is not a quantity"))?;
        let (nano, binary) = if let Some(&(_, shift)) = BINARY.iter().find(|(k, _)| *k == suffix) {
            (
                nano_num
                    .checked_mul(1u128 << shift)
                    .map_or(Scaled::TooLarge, Scaled::Exact),
                true,
            )
        } else if let Some(&(_, exp)) = DECIMAL.iter().find(|(k, _)| *k == suffix) {
            (scale10(nano_num, exp), false)
        } else if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
            let exp: i32 = exp.parse().map_err(|_| format!("`{s}` has a bad exponent"))?;
            (scale10(nano_num, exp), false)
        } else if suffix.is_empty() {
            (Scaled::Exact(nano_num), false)
        } else {
            return Err(format!(
                "`{s}` has an unknown suffix `{suffix}`; use m, k, M, G, T or Ki, Mi, Gi, Ti"
            ));
        };
        let nano = match nano {
            Scaled::Exact(n) if n < 10u128.pow(30) => n,
            Scaled::Exact(_) | Scaled::TooLarge => return Err(format!("`{s}` is too large")),
            Scaled::TooFine => return Err(format!("`{s}` is finer than 1m, the smallest unit Kubernetes keeps")),
        };
        if nano % 1_000_000 != 0 {
            return Err(format!("`{s}` is finer than 1m, the smallest unit Kubernetes keeps"));
        }
        Ok(Quantity {
            milli: nano / 1_000_000,
            binary,
        })
    }

    /// The canonical form: the largest suffix of the user's family that keeps an integer.
    pub fn canonical(&self) -> String {
        let m = self.milli;
        if m == 0 {
            return "0".into();
        }
        if !m.is_multiple_of(1000) {
            return format!("{m}m");
        }
        let units = m / 1000;
        if self.binary {
            for &(suffix, shift) in BINARY.iter().rev() {
                if units.is_multiple_of(1u128 << shift) {
                    return format!("{}{suffix}", units >> shift);
                }
            }
            return units.to_string();
        }
        for &(suffix, exp) in DECIMAL.iter().rev().filter(|(_, e)| *e > 0) {
            let d = 10u128.pow(exp.unsigned_abs());
            if units.is_multiple_of(d) {
                return format!("{}{suffix}", units / d);
            }
        }
        units.to_string()
    }
}

/// A count scaled by a power of ten, exactly, or why it cannot be.
enum Scaled {
    Exact(u128),
    TooLarge,
    /// A fraction of the smallest unit would be lost.
    TooFine,
}

fn scale10(n: u128, exp: i32) -> Scaled {
    let Some(p) = 10u128.checked_pow(exp.unsigned_abs()) else {
        return match (n, exp >= 0) {
            (0, _) => Scaled::Exact(0),
            (_, true) => Scaled::TooLarge,
            (_, false) => Scaled::TooFine,
        };
    };
    if exp >= 0 {
        n.checked_mul(p).map_or(Scaled::TooLarge, Scaled::Exact)
    } else if n.is_multiple_of(p) {
        Scaled::Exact(n / p)
    } else {
        Scaled::TooFine
    }
}

/// Parse a duration such as "4h", "90m", "1h30m", "45s", "2d" into seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let mut total: u64 = 0;
    let mut num = String::new();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let mult = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            ' ' => {
                return Err(format!(
                    "`{s}` has a space; write units right after numbers, such as 2h"
                ));
            }
            '.' => return Err(format!("`{s}` has a fraction; write 1h30m rather than 1.5h")),
            _ => return Err(format!("`{s}` has an unknown unit `{c}`; use s, m, h or d")),
        };
        let n: u64 = num
            .parse()
            .map_err(|_| format!("`{s}` is not a duration like 4h or 1h30m"))?;
        total = n
            .checked_mul(mult)
            .and_then(|x| total.checked_add(x))
            .ok_or("duration too long")?;
        num.clear();
    }
    if !num.is_empty() {
        return Err(format!("`{s}` needs a unit: `{s}s`, `{s}m` or `{s}h`"));
    }
    if total == 0 {
        return Err("a timeout must be longer than zero".into());
    }
    Ok(total)
}

/// Check a Kubernetes CronJob schedule: five fields, or one of the @ macros.
pub fn check_cron(s: &str) -> Result<(), String> {
    const MACROS: &[&str] = &[
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    if let Some(rest) = s.strip_prefix("@every ") {
        return match parse_go_duration(rest.trim()) {
            Some(secs) if secs > 0 => Ok(()),
            _ => Err(format!("`@every {rest}` needs a positive duration such as 1h30m")),
        };
    }
    if s.starts_with('@') {
        return if MACROS.contains(&s) {
            Ok(())
        } else {
            Err(format!("unknown macro `{s}`; use one of {}", MACROS.join(", ")))
        };
    }
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        return Err(
            "a time zone in the schedule is refused by Kubernetes; set the pipeline's time zone instead".into(),
        );
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "a schedule has five fields (minute hour day month weekday), this one has {}",
            fields.len()
        ));
    }
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let specs: [(&str, u32, u32, &[&str], u32); 5] = [
        ("minute", 0, 59, &[], 0),
        ("hour", 0, 23, &[], 0),
        ("day", 1, 31, &[], 0),
        ("month", 1, 12, MONTHS, 1),
        ("weekday", 0, 6, DAYS, 0),
    ];
    for (field, (name, min, max, names, first)) in fields.iter().zip(specs) {
        for part in field.split(',') {
            cron_part(part, min, max, names, first)
                .map_err(|why| format!("invalid schedule `{s}`: in the {name} field, {why}; fields are minute 0-59, hour 0-23, day 1-31, month 1-12 or JAN-DEC, weekday 0-6 or SUN-SAT"))?;
        }
    }
    Ok(())
}

/// One comma-separated part of a cron field, as the CronJob controller's parser reads it:
/// `*` or `?`, a value, or a range `a-b`, each with an optional `/step`. Values are digits
/// or, for months and weekdays, three-letter names.
fn cron_part(part: &str, min: u32, max: u32, names: &[&str], first: u32) -> Result<(), String> {
    let value = |v: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
            return Ok(first + u32::try_from(i).unwrap_or_default());
        }
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{v}` is not a number"));
        }
        let n: u32 = v.parse().map_err(|_| format!("`{v}` is too large"))?;
        if n < min || n > max {
            return Err(format!("{n} is outside {min}-{max}"));
        }
        Ok(n)
    };
    let (range, step) = match part.split_once('/') {
        Some((r, st)) => (r, Some(st)),
        None => (part, None),
    };
    if let Some(st) = step {
        let n = value_in(st)?;
        if n == 0 {
            return Err("the step is 0".into());
        }
    }
    if range == "*" || range == "?" {
        return Ok(());
    }
    let (lo, hi) = match range.split_once('-') {
        Some((a, b)) => (value(a)?, value(b)?),
        None => (value(range)?, max),
    };
    if lo > hi {
        return Err(format!("the range starts at {lo}, after its end {hi}"));
    }
    Ok(())
}

/// A cron step: digits only.
fn value_in(v: &str) -> Result<u32, String> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("the step `{v}` is not a number"));
    }
    v.parse().map_err(|_| format!("the step `{v}` is too large"))
}

/// A Go duration (`1h30m`, `90s`, `1.5h`) in whole seconds, as `@every` takes it.
fn parse_go_duration(s: &str) -> Option<u64> {
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..end].parse().ok()?;
        rest = &rest[end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_end..];
    }
    (total.is_finite() && total < 1e12)
        .then(|| format!("{:.0}", total.floor()).parse().ok())
        .flatten()
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Quantity::parse(s).unwrap().canonical()
    }

    #[test]
    fn extreme_exponents_are_errors_not_panics() {
        let fine = |s: &str| Quantity::parse(s).expect_err(s).contains("finer than 1m");
        let large = |s: &str| Quantity::parse(s).expect_err(s).contains("too large");
        assert!(
            fine("1e-2147483648"),
            "was a divide by zero in release, an overflow in debug"
        );
        assert!(fine("1e-19"), "was reported as too large");
        assert!(fine("5e-4"));
        assert!(large("1e2147483647"));
        assert!(large("1e40"));
        assert_eq!(canon("0e-40"), "0");
        assert_eq!(canon("15e-1"), "1500m");
        assert_eq!(canon("1e16"), "10P");
    }

    #[test]
    fn canonical_quantities() {
        assert_eq!(canon("1000m"), "1");
        assert_eq!(canon("0.5"), "500m");
        assert_eq!(canon("1024Mi"), "1Gi");
        assert_eq!(canon("1536Mi"), "1536Mi");
        assert_eq!(canon("2000M"), "2G");
        assert_eq!(canon("1e3"), "1k");
        assert_eq!(canon("8Gi"), "8Gi");
        assert_eq!(canon("250m"), "250m");
        assert_eq!(canon("0"), "0");
    }

    #[test]
    fn bad_quantities() {
        for s in [
            "",
            "abc",
            "1.2.3",
            "-1",
            "0.0001",
            "5GB",
            "1e99",
            "12345678901234567890",
        ] {
            assert!(Quantity::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn durations_and_cron() {
        assert_eq!(parse_duration("1h30m").unwrap(), 5400);
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(check_cron("0 3 * * 0").is_ok());
        assert!(check_cron("@daily").is_ok());
        assert!(check_cron("0 3 * *").is_err());
        assert!(check_cron("0 25 * * *").is_err());
        assert!(check_cron("0 0 3 * * 0").is_err());
    }

    #[test]
    fn cron_accepts_what_the_cronjob_controller_accepts_and_nothing_more() {
        for ok in [
            "*/15 * * * *",
            "0 3 * * 0",
            "0 3 * * 6",
            "0 0 1,15 * *",
            "0 9-17/2 * * MON-FRI",
            "0 0 ? * sun",
            "5/10 * * * *",
            "0 0 1 JAN,jul *",
            "@every 1h30m",
            "@weekly",
        ] {
            assert!(check_cron(ok).is_ok(), "{ok}: {:?}", check_cron(ok));
        }
        for bad in [
            "0 0 L * *",
            "0 0 15W * *",
            "0 0 * * 1#2",
            "+5 * * * *",
            "0 0 * * 7",
            "0 0 0 * *",
            "0 0 * 13 *",
            "*/0 * * * *",
            "30-10 * * * *",
            "0 0 * * MON-",
            "CRON_TZ=UTC 0 0 * * *",
            "@every 0s",
            "@every soon",
        ] {
            assert!(check_cron(bad).is_err(), "{bad} was accepted");
        }
    }
}
