//! Resource quantities: `500m`, `128Mi`, `1.5`, `2e3`.
//!
//! Ported from apimachinery's `pkg/api/resource/quantity.go` (`ParseQuantity`,
//! `MilliValue`, `Value`): a decimal number with a binary suffix (`Ki`..`Ei`),
//! a decimal SI suffix (`n`, `u`, `m`, `k`, `M`..`E`) or an exponent (`e3`).
//! Values are exact (integer arithmetic on a decimal mantissa) and round up
//! when read as whole units or millis, as Kubernetes does. Left out:
//! canonical re-formatting (`1.5Gi` printed as `1536Mi`), and quantities
//! beyond ±2^63 millis (rejected).

use std::fmt;

/// The message kube-apiserver gives for a malformed quantity.
pub const QUANTITY_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// A parsed quantity: `mantissa * 10^exp10 * 1024^exp1024`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantity {
    mantissa: i128,
    exp10: i32,
    exp1024: u32,
}

/// A quantity that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{QUANTITY_ERROR}")]
pub struct QuantityError;

impl Quantity {
    /// Parses a quantity as `resource.ParseQuantity` does.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let s = text.trim();
        let (negative, s) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let num_len = s
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let (number, suffix) = s.split_at(num_len);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(QuantityError);
        }
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return Err(QuantityError);
        }
        let mut mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| QuantityError)?
        };
        if negative {
            mantissa = -mantissa;
        }
        let frac_digits = i32::try_from(frac_part.len()).map_err(|_| QuantityError)?;
        let (exp10, exp1024) = match suffix {
            "" => (0, 0),
            "Ki" => (0, 1),
            "Mi" => (0, 2),
            "Gi" => (0, 3),
            "Ti" => (0, 4),
            "Pi" => (0, 5),
            "Ei" => (0, 6),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            exp if exp.starts_with(['e', 'E']) => {
                let e: i32 = exp[1..].parse().map_err(|_| QuantityError)?;
                if !(-30..=30).contains(&e) {
                    return Err(QuantityError);
                }
                (e, 0)
            }
            _ => return Err(QuantityError),
        };
        let q = Quantity {
            mantissa,
            exp10: exp10 - frac_digits,
            exp1024,
        };
        // Reject what cannot be read back as millis.
        q.scaled(3).ok_or(QuantityError)?;
        Ok(q)
    }

    /// The value times 10^`digits`, rounded up (away from zero).
    fn scaled(&self, digits: i32) -> Option<i64> {
        let mut n = self.mantissa;
        for _ in 0..self.exp1024 {
            n = n.checked_mul(1024)?;
        }
        let e = self.exp10 + digits;
        if e >= 0 {
            for _ in 0..e {
                n = n.checked_mul(10)?;
            }
        } else {
            let d = 10i128.checked_pow(e.unsigned_abs())?;
            let (q, r) = (n / d, n % d);
            n = if r > 0 {
                q + 1
            } else if r < 0 {
                q - 1
            } else {
                q
            };
        }
        i64::try_from(n).ok()
    }

    /// The value in thousandths, rounded up: CPU millicores (`MilliValue`).
    pub fn milli_value(&self) -> i64 {
        self.scaled(3).unwrap_or(i64::MAX)
    }

    /// The value in whole units, rounded up: bytes for memory (`Value`).
    pub fn value(&self) -> i64 {
        self.scaled(0).unwrap_or(i64::MAX)
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    /// Compared in nano-units (enough for every suffix the parser accepts
    /// at the sizes resources have).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let nanos = |q: &Quantity| {
            let mut n = q.mantissa;
            for _ in 0..q.exp1024 {
                n = n.saturating_mul(1024);
            }
            let e = q.exp10 + 9;
            if e >= 0 {
                n.saturating_mul(10i128.saturating_pow(e.unsigned_abs()))
            } else {
                n / 10i128.saturating_pow(e.unsigned_abs())
            }
        };
        nanos(self).cmp(&nanos(other))
    }
}

impl fmt::Display for Quantity {
    /// Millis when fractional (`500m`), else whole units.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.milli_value();
        if m % 1000 == 0 {
            write!(f, "{}", m / 1000)
        } else {
            write!(f, "{m}m")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn cpu_quantities_read_as_millicores() {
        assert_eq!(q("500m").milli_value(), 500);
        assert_eq!(q("1").milli_value(), 1000);
        assert_eq!(q("0.1").milli_value(), 100);
        assert_eq!(q("1.5").milli_value(), 1500);
        assert_eq!(q("250000u").milli_value(), 250);
        assert_eq!(q("1n").milli_value(), 1, "rounds up");
    }

    #[test]
    fn memory_quantities_read_as_bytes() {
        assert_eq!(q("128Mi").value(), 134_217_728);
        assert_eq!(q("1Gi").value(), 1_073_741_824);
        assert_eq!(q("1G").value(), 1_000_000_000);
        assert_eq!(q("64k").value(), 64_000);
        assert_eq!(q("1e3").value(), 1000);
        assert_eq!(q("1.5Ki").value(), 1536);
        assert_eq!(q("129M").value(), 129_000_000);
    }

    #[test]
    fn malformed_quantities_are_rejected_with_the_apiserver_message() {
        for bad in [
            "",
            "abc",
            "1.2.3",
            "5Qi",
            "m",
            "1e999",
            "99999999999999999999999999999Ei",
        ] {
            assert_eq!(Quantity::parse(bad), Err(QuantityError), "{bad}");
        }
        assert!(QuantityError
            .to_string()
            .starts_with("quantities must match"));
    }

    #[test]
    fn quantities_compare_by_value_across_suffixes() {
        assert!(q("1") > q("500m"));
        assert!(q("1Gi") > q("1G"));
        assert_eq!(q("1000m").cmp(&q("1")), std::cmp::Ordering::Equal);
        assert_eq!(q("250m").to_string(), "250m");
        assert_eq!(q("2").to_string(), "2");
    }
}
