//! `sort`, as GNU coreutils' sort(1) orders lines in the C locale (byte
//! order, which for UTF-8 text is code-point order).
//!
//! `-k POS1[,POS2]` keys with `POS = F[.C][bfnr]`, `-t SEP`, and the global
//! `-b -f -n -r -u -s`. As in coreutils (`keycompare`, `compare`): without
//! `-t` a field is a run of blanks followed by non-blanks, so a key starts
//! at the blanks before its field unless `b` skips them; a key with its own
//! ordering letters ignores the global ones; lines whose keys are equal are
//! ordered by the whole line in byte order (the "last resort"), unless `-s`
//! or `-u`; `-u` keeps the first line of each run of equal keys. `-n` reads
//! an optional `-`, digits and a `.` fraction after leading blanks (no
//! thousands separators, as in the C locale); anything else counts as 0.
//! Left out: `-h -g -V -M -R -d -i -c -m -o`.

use std::cmp::Ordering;

/// Ordering options, global or of one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Order {
    pub blanks: bool,
    pub fold: bool,
    pub numeric: bool,
    pub reverse: bool,
}

impl Order {
    fn any(self) -> bool {
        self.blanks || self.fold || self.numeric || self.reverse
    }
}

/// A `-k` key: 1-based field and character, and its options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Key {
    start_field: usize,
    start_char: usize,
    /// `None`: to the end of the line. `Some((field, 0))`: to the end of the
    /// field.
    end: Option<(usize, usize)>,
    order: Order,
    /// Whether the key's own letters set `b` on its start / end position.
    start_blanks: bool,
    end_blanks: bool,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Sort {
    pub order: Order,
    pub keys: Vec<Key>,
    pub separator: Option<char>,
    pub unique: bool,
    pub stable: bool,
    pub lines: Vec<String>,
}

/// Parses a `-k` argument, or sort's message.
pub(super) fn parse_key(spec: &str) -> Result<Key, String> {
    let (start, end) = match spec.split_once(',') {
        Some((s, e)) => (s, Some(e)),
        None => (spec, None),
    };
    let (start_field, start_char, start_opts) = position(start, spec, "field start")?;
    if start_field == 0 {
        return Err(format!(
            "sort: field number is zero: invalid field specification '{spec}'"
        ));
    }
    if start_char == Some(0) {
        return Err(format!(
            "sort: character offset is zero: invalid field specification '{spec}'"
        ));
    }
    let mut order = Order::default();
    let mut start_blanks = false;
    let mut end_blanks = false;
    apply_letters(start_opts, &mut order, &mut start_blanks, spec)?;
    let end = match end {
        None => None,
        Some(e) => {
            let (f, c, opts) = position(e, spec, "after ','")?;
            if f == 0 {
                return Err(format!(
                    "sort: field number is zero: invalid field specification '{spec}'"
                ));
            }
            apply_letters(opts, &mut order, &mut end_blanks, spec)?;
            Some((f, c.unwrap_or(0)))
        }
    };
    Ok(Key {
        start_field,
        start_char: start_char.unwrap_or(1),
        end,
        order,
        start_blanks,
        end_blanks,
    })
}

/// `F[.C]` and the letters after it.
fn position<'a>(
    text: &'a str,
    spec: &str,
    what: &str,
) -> Result<(usize, Option<usize>, &'a str), String> {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        let (label, shown) = if what == "field start" {
            ("invalid number at field start", spec.to_string())
        } else {
            ("invalid number after ','", text.to_string())
        };
        return Err(format!(
            "sort: {label}: invalid count at start of '{shown}'"
        ));
    }
    let field = text[..digits].parse::<usize>().unwrap_or(usize::MAX);
    let rest = &text[digits..];
    if let Some(after) = rest.strip_prefix('.') {
        let d = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if d == 0 {
            return Err(format!(
                "sort: invalid number after '.': invalid count at start of '{after}'"
            ));
        }
        let c = after[..d].parse::<usize>().unwrap_or(usize::MAX);
        return Ok((field, Some(c), &after[d..]));
    }
    Ok((field, None, rest))
}

fn apply_letters(
    letters: &str,
    order: &mut Order,
    blanks: &mut bool,
    spec: &str,
) -> Result<(), String> {
    for c in letters.chars() {
        match c {
            'b' => *blanks = true,
            'f' => order.fold = true,
            'n' => order.numeric = true,
            'r' => order.reverse = true,
            'd' | 'g' | 'h' | 'i' | 'M' | 'R' | 'V' => {
                return Err(format!(
                    "sort: key option '{c}' is not supported by the simulated shell's sort (it knows b, f, n and r)"
                ))
            }
            _ => {
                return Err(format!(
                    "sort: stray character in field spec: invalid field specification '{spec}'"
                ))
            }
        }
    }
    Ok(())
}

impl Sort {
    /// The lines read so far, sorted.
    pub(super) fn finish(&mut self, out: &mut String) {
        let mut lines = std::mem::take(&mut self.lines);
        lines.sort_by(|a, b| self.compare(a, b));
        if self.unique {
            lines.dedup_by(|b, a| self.compare_keys(a, b) == Ordering::Equal);
        }
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    }

    fn compare(&self, a: &str, b: &str) -> Ordering {
        let by_keys = self.compare_keys(a, b);
        if by_keys != Ordering::Equal || self.unique || self.stable {
            return by_keys;
        }
        let last = a.as_bytes().cmp(b.as_bytes());
        if self.order.reverse {
            last.reverse()
        } else {
            last
        }
    }

    fn compare_keys(&self, a: &str, b: &str) -> Ordering {
        if self.keys.is_empty() {
            return compare_with(a, b, self.order);
        }
        for key in &self.keys {
            let order = if key.order.any() || key.start_blanks || key.end_blanks {
                key.order
            } else {
                self.order
            };
            let ka = self.extract(a, key);
            let kb = self.extract(b, key);
            let o = compare_with(ka, kb, order);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// The text of `key` in `line`.
    fn extract<'a>(&self, line: &'a str, key: &Key) -> &'a str {
        let inherit = !(key.order.any() || key.start_blanks || key.end_blanks);
        let skip_start = key.start_blanks || (inherit && self.order.blanks);
        let skip_end = key.end_blanks || (inherit && self.order.blanks);
        let fields = self.fields(line);
        let start = match fields.get(key.start_field - 1) {
            None => line.len(),
            Some(&(begin, _)) => {
                let mut p = begin;
                if skip_start {
                    p = skip_blanks(line, p);
                }
                advance_chars(line, p, key.start_char - 1)
            }
        };
        let end = match key.end {
            None => line.len(),
            Some((f, c)) => match fields.get(f - 1) {
                None => line.len(),
                Some(&(_, field_end)) if c == 0 => field_end,
                Some(&(begin, _)) => {
                    let mut p = begin;
                    if skip_end {
                        p = skip_blanks(line, p);
                    }
                    advance_chars(line, p, c)
                }
            },
        };
        if end <= start {
            ""
        } else {
            &line[start..end]
        }
    }

    /// Each field's (start, end) byte offsets: with `-t`, between
    /// separators; without, a run of blanks and the non-blanks after it.
    fn fields(&self, line: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        match self.separator {
            Some(sep) => {
                let mut begin = 0;
                for (i, c) in line.char_indices() {
                    if c == sep {
                        out.push((begin, i));
                        begin = i + c.len_utf8();
                    }
                }
                out.push((begin, line.len()));
            }
            None => {
                let mut begin = 0;
                let mut in_word = false;
                for (i, c) in line.char_indices() {
                    let blank = c == ' ' || c == '\t';
                    if blank && in_word {
                        out.push((begin, i));
                        begin = i;
                        in_word = false;
                    } else if !blank {
                        in_word = true;
                    }
                }
                if in_word || begin < line.len() {
                    out.push((begin, line.len()));
                }
            }
        }
        out
    }
}

fn skip_blanks(line: &str, from: usize) -> usize {
    let rest = &line[from..];
    from + (rest.len() - rest.trim_start_matches([' ', '\t']).len())
}

fn advance_chars(line: &str, from: usize, n: usize) -> usize {
    line[from..]
        .char_indices()
        .nth(n)
        .map_or(line.len(), |(i, _)| from + i)
}

fn compare_with(a: &str, b: &str, order: Order) -> Ordering {
    let (a, b) = if order.blanks {
        (
            a.trim_start_matches([' ', '\t']),
            b.trim_start_matches([' ', '\t']),
        )
    } else {
        (a, b)
    };
    let o = if order.numeric {
        numeric(a).cmp(&numeric(b))
    } else if order.fold {
        let up = |s: &str| {
            s.bytes()
                .map(|c| c.to_ascii_uppercase())
                .collect::<Vec<u8>>()
        };
        up(a).cmp(&up(b))
    } else {
        a.as_bytes().cmp(b.as_bytes())
    };
    if order.reverse {
        o.reverse()
    } else {
        o
    }
}

/// A number as `sort -n` reads it, in a form that orders as the number
/// does: coreutils compares the digit strings, never converting to a float
/// (`strnumcmp`).
#[derive(PartialEq, Eq)]
struct Number {
    negative: bool,
    int: Vec<u8>,
    frac: Vec<u8>,
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let magnitude = |n: &Number| (n.int.len(), n.int.clone(), n.frac.clone());
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => magnitude(self).cmp(&magnitude(other)),
            (true, true) => magnitude(other).cmp(&magnitude(self)),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn numeric(s: &str) -> Number {
    let s = s.trim_start_matches([' ', '\t']);
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let int_len = s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let int: Vec<u8> = s[..int_len].bytes().skip_while(|b| *b == b'0').collect();
    let mut frac: Vec<u8> = Vec::new();
    if let Some(after) = s[int_len..].strip_prefix('.') {
        let n = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        frac = after[..n].bytes().collect();
        while frac.last() == Some(&b'0') {
            frac.pop();
        }
    }
    // -0 is 0.
    let negative = negative && !(int.is_empty() && frac.is_empty());
    Number {
        negative,
        int,
        frac,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(sort: Sort, input: &[&str]) -> Vec<String> {
        let mut s = sort;
        s.lines = input.iter().map(|l| l.to_string()).collect();
        let mut out = String::new();
        s.finish(&mut out);
        out.lines().map(str::to_string).collect()
    }

    fn keyed(keys: &[&str], order: Order) -> Sort {
        Sort {
            order,
            keys: keys.iter().map(|k| parse_key(k).unwrap()).collect(),
            ..Default::default()
        }
    }

    const LINES: &[&str] = &["b  2", "a 10", "c   1", "d 2"];

    #[test]
    fn a_key_without_b_starts_at_the_blanks_before_its_field() {
        // coreutils: `sort -k2` compares "  2", " 10", "   1", " 2".
        assert_eq!(
            sorted(keyed(&["2"], Order::default()), LINES),
            ["c   1", "b  2", "a 10", "d 2"]
        );
    }

    #[test]
    fn numeric_keys_compare_numbers_then_the_whole_line() {
        assert_eq!(
            sorted(keyed(&["2n"], Order::default()), LINES),
            ["c   1", "b  2", "d 2", "a 10"]
        );
        let reverse = Order {
            numeric: true,
            reverse: true,
            ..Default::default()
        };
        assert_eq!(
            sorted(keyed(&["2"], reverse), LINES),
            ["a 10", "d 2", "b  2", "c   1"]
        );
    }

    #[test]
    fn unique_keeps_the_first_line_of_each_equal_key() {
        let mut s = keyed(&["2,2n"], Order::default());
        s.unique = true;
        assert_eq!(sorted(s, LINES), ["c   1", "b  2", "a 10"]);
    }

    #[test]
    fn numbers_are_read_as_sort_n_reads_them() {
        let n = Sort {
            order: Order {
                numeric: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            sorted(n, &["x", "10", "-1", "2.5", "", "1e3", "007", "-0"]),
            ["-1", "", "-0", "x", "1e3", "2.5", "007", "10"]
        );
    }

    #[test]
    fn a_separator_splits_fields_on_every_occurrence() {
        let mut s = keyed(&["2"], Order::default());
        s.separator = Some(',');
        assert_eq!(sorted(s, &["b,2", "a,1", "c,,0"]), ["c,,0", "a,1", "b,2"]);
    }

    #[test]
    fn bad_keys_get_sorts_messages() {
        assert_eq!(
            parse_key("x").unwrap_err(),
            "sort: invalid number at field start: invalid count at start of 'x'"
        );
        assert_eq!(
            parse_key("0").unwrap_err(),
            "sort: field number is zero: invalid field specification '0'"
        );
        assert_eq!(
            parse_key("1,x").unwrap_err(),
            "sort: invalid number after ',': invalid count at start of 'x'"
        );
        assert_eq!(
            parse_key("1.x").unwrap_err(),
            "sort: invalid number after '.': invalid count at start of 'x'"
        );
    }
}
