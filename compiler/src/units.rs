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
    if s.starts_with('@') {
        return if MACROS.contains(&s) {
            Ok(())
        } else {
            Err(format!("unknown macro `{s}`; use one of {}", MACROS.join(", ")))
        };
    }
    let fields = s.split_whitespace().count();
    if fields != 5 {
        return Err(format!(
            "a schedule has five fields (minute hour day month weekday), this one has {fields}"
        ));
    }
    croner::parser::CronParser::builder()
        .build()
        .parse(s)
        .map(|_| ())
        .map_err(|e| {
            format!(
                "invalid schedule `{s}` ({e}); fields are minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-6"
            )
        })
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
}
