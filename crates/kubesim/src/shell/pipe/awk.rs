//! The awk programs people put after `kubectl get ... |`: one rule,
//! `[PATTERN] [{ print ITEM... }]`, as POSIX awk (and gawk, mawk) runs it.
//!
//! Records are lines; with the default `FS` (a space) fields are split on
//! runs of blanks, leading and trailing ones ignored; `-F c` splits on each
//! `c` (`-F '\t'` on tabs) and a longer `-F` is an extended regular
//! expression. `print` writes its items joined by `OFS` (a space) where a
//! comma separates them and concatenated where they stand side by side;
//! `print` alone prints `$0`. Items: `$N`, `$0`, `$NF`, `$(NF-N)`, `NR`,
//! `NF`, numbers and `"strings"` (with `\t`, `\n`, `\"`, `\\`). Patterns:
//! `NR`/`NF`/`$N` compared (`== != < <= > >=`) with a number or a string,
//! `/regex/`, `!/regex/`, `$N ~ /regex/` and `$N !~ /regex/`. A comparison
//! is numeric when both sides look like numbers (POSIX's "strnum"), and by
//! string otherwise. Anything else (BEGIN/END, variables, functions,
//! `printf`, several rules) is refused with a message saying what runs.

use super::pattern;
use regex_lite::Regex;

/// What the shell's awk understands, for its error.
pub(super) const SUPPORTED: &str = "awk: the simulated shell's awk runs one rule, [PATTERN] {print ITEM, ...}: \
ITEM is $N, $0, $NF, $(NF-1), NR, NF, a number or a \"string\"; PATTERN is NR>1, NR==2, NF>0, /regex/, !/regex/, \
$3 ~ /regex/ or $2 == \"text\" (e.g. awk 'NR>1 {print $1, $3}')";

#[derive(Clone, Debug)]
pub(super) struct Program {
    pattern: Option<Pattern>,
    /// The action's `print` statements (`None`: no action, print `$0`;
    /// `{}` prints nothing).
    prints: Option<Vec<Vec<Vec<Term>>>>,
    split: Split,
    /// Records read so far (NR).
    nr: u64,
}

#[derive(Clone, Debug)]
enum Split {
    Blanks,
    Char(char),
    Regex(Regex),
}

#[derive(Clone, Debug, PartialEq)]
enum Term {
    Field(FieldRef),
    Nr,
    Nf,
    Str(String),
    Num(f64),
}

#[derive(Clone, Debug, PartialEq)]
enum FieldRef {
    /// `$N`.
    Index(usize),
    /// `$NF`, `$(NF-N)`.
    FromEnd(usize),
}

#[derive(Clone, Debug)]
enum Pattern {
    Compare(Term, Cmp, Term),
    Match {
        subject: Option<Term>,
        regex: Regex,
        negate: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Parses `awk [-F SEP] 'PROGRAM'` (the words after `awk`).
pub(super) fn parse(words: &[String]) -> Result<Program, String> {
    let mut split = Split::Blanks;
    let mut program = None;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if program.is_some() {
            return Err(format!(
                "awk: cannot open \"{w}\" (No such file or directory)"
            ));
        }
        if w == "--" {
            continue;
        }
        if let Some(fs) = w.strip_prefix("-F") {
            let fs = if fs.is_empty() {
                let Some(v) = words.get(i) else {
                    return Err("awk: option requires an argument -- F".into());
                };
                i += 1;
                v.as_str()
            } else {
                fs
            };
            split = field_separator(fs)?;
            continue;
        }
        if w.len() > 1 && w.starts_with('-') {
            return Err(format!(
                "awk: option {w} is not supported by the simulated shell's awk (it knows -F)\n{SUPPORTED}"
            ));
        }
        program = Some(w.clone());
    }
    let Some(text) = program else {
        return Err("usage: awk [-F fs] 'program'".into());
    };
    let mut p = Lexer::new(&text);
    let parsed = p.program().ok_or_else(|| SUPPORTED.to_string())?;
    let (pattern, prints) = parsed;
    Ok(Program {
        pattern,
        prints,
        split,
        nr: 0,
    })
}

fn field_separator(fs: &str) -> Result<Split, String> {
    let unescaped = match fs {
        "\\t" | "t" => "\t".to_string(),
        other => other.to_string(),
    };
    let mut cs = unescaped.chars();
    Ok(match (cs.next(), cs.next()) {
        (Some(' '), None) | (None, _) => Split::Blanks,
        (Some(c), None) => Split::Char(c),
        _ => Split::Regex(compile(&unescaped)?),
    })
}

fn compile(ere: &str) -> Result<Regex, String> {
    let t = pattern::translate(ere, true).map_err(|e| format!("awk: {e}"))?;
    Regex::new(&t).map_err(|e| format!("awk: regular expression /{ere}/: {e}"))
}

impl Program {
    /// One record in; what the rule prints for it.
    pub(super) fn feed(&mut self, line: &str, out: &mut String) -> Result<(), String> {
        self.nr += 1;
        let fields = self.fields(line);
        let rec = Record {
            line,
            fields: &fields,
            nr: self.nr,
        };
        let selected = match &self.pattern {
            None => true,
            Some(Pattern::Compare(l, cmp, r)) => {
                let (a, b) = (rec.value(l)?, rec.value(r)?);
                compare(&a, *cmp, &b)
            }
            Some(Pattern::Match {
                subject,
                regex,
                negate,
            }) => {
                let s = match subject {
                    Some(t) => rec.value(t)?.text,
                    None => line.to_string(),
                };
                regex.is_match(&s) != *negate
            }
        };
        if !selected {
            return Ok(());
        }
        let Some(prints) = &self.prints else {
            out.push_str(line);
            out.push('\n');
            return Ok(());
        };
        for items in prints {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                let mut s = String::new();
                for term in item {
                    s.push_str(&rec.value(term)?.text);
                }
                parts.push(s);
            }
            if parts.is_empty() {
                out.push_str(line);
            } else {
                out.push_str(&parts.join(" "));
            }
            out.push('\n');
        }
        Ok(())
    }

    fn fields(&self, line: &str) -> Vec<String> {
        match &self.split {
            Split::Blanks => line
                .split([' ', '\t'])
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect(),
            _ if line.is_empty() => Vec::new(),
            Split::Char(c) => line.split(*c).map(str::to_string).collect(),
            Split::Regex(r) => r.split(line).map(str::to_string).collect(),
        }
    }
}

struct Record<'a> {
    line: &'a str,
    fields: &'a [String],
    nr: u64,
}

/// A value: its text, and whether it looks like a number (a field read
/// from input that does, or a numeric constant).
struct Value {
    text: String,
    number: Option<f64>,
}

impl Record<'_> {
    fn value(&self, t: &Term) -> Result<Value, String> {
        Ok(match t {
            Term::Nr => number(self.nr as f64),
            Term::Nf => number(self.fields.len() as f64),
            Term::Num(n) => number(*n),
            Term::Str(s) => Value {
                text: s.clone(),
                number: None,
            },
            Term::Field(f) => {
                let index = match f {
                    FieldRef::Index(i) => *i as i64,
                    FieldRef::FromEnd(back) => self.fields.len() as i64 - *back as i64,
                };
                if index < 0 {
                    // gawk: `fatal: attempt to access field -1`.
                    return Err(format!(
                        "awk: cmd. line:1: (FILENAME=- FNR={}) fatal: attempt to access field {index}",
                        self.nr
                    ));
                }
                let text = if index == 0 {
                    self.line.to_string()
                } else {
                    self.fields
                        .get(index as usize - 1)
                        .cloned()
                        .unwrap_or_default()
                };
                let number = strnum(&text);
                Value { text, number }
            }
        })
    }
}

fn number(n: f64) -> Value {
    Value {
        text: format_number(n),
        number: Some(n),
    }
}

/// A number as awk prints it: integers plainly, others with `%.6g`.
fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e16 {
        format!("{}", n as i64)
    } else {
        let s = format!("{n:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

/// Whether input text looks like a number (leading and trailing blanks
/// allowed), and which.
fn strnum(s: &str) -> Option<f64> {
    let t = s.trim_matches([' ', '\t']);
    let bytes = t.as_bytes();
    let ok = !t.is_empty()
        && bytes.iter().any(|b| b.is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && !t.contains("inf")
        && !t.contains("nan");
    if !ok {
        return None;
    }
    t.parse::<f64>().ok()
}

fn compare(a: &Value, cmp: Cmp, b: &Value) -> bool {
    let o = match (a.number, b.number) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.text.as_bytes().cmp(b.text.as_bytes()),
    };
    use std::cmp::Ordering::*;
    match cmp {
        Cmp::Eq => o == Equal,
        Cmp::Ne => o != Equal,
        Cmp::Lt => o == Less,
        Cmp::Le => o != Greater,
        Cmp::Gt => o == Greater,
        Cmp::Ge => o != Less,
    }
}

/// A small recursive-descent reader of the supported programs. Every
/// method returns `None` for text outside the subset.
struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

type Parsed = (Option<Pattern>, Option<Vec<Vec<Vec<Term>>>>);

impl Lexer {
    fn new(text: &str) -> Lexer {
        Lexer {
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    fn skip_space(&mut self) {
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
        {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, s: &str) -> bool {
        self.skip_space();
        let n = s.chars().count();
        if self.chars.len() >= self.pos + n
            && self.chars[self.pos..self.pos + n]
                .iter()
                .copied()
                .eq(s.chars())
        {
            self.pos += n;
            true
        } else {
            false
        }
    }

    /// A word made of letters (`NR`, `NF`, `print`), not consumed unless
    /// it is `word`.
    fn eat_word(&mut self, word: &str) -> bool {
        self.skip_space();
        let start = self.pos;
        if !self.eat(word) {
            return false;
        }
        if self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            self.pos = start;
            return false;
        }
        true
    }

    fn program(&mut self) -> Option<Parsed> {
        let pattern = if self.peek() == Some('{') {
            None
        } else {
            Some(self.pattern()?)
        };
        let mut prints = None;
        if self.eat("{") {
            let statements = prints.get_or_insert_with(Vec::new);
            loop {
                while self.eat(";") {}
                if self.eat("}") {
                    break;
                }
                if !self.eat_word("print") {
                    return None;
                }
                statements.push(self.items()?);
                if !(self.peek() == Some(';') || self.peek() == Some('}')) {
                    return None;
                }
            }
        } else if pattern.is_none() {
            return None;
        }
        while self.eat(";") {}
        if self.peek().is_some() {
            return None;
        }
        Some((pattern, prints))
    }

    /// The items of a print: expressions separated by commas, each a run
    /// of terms side by side.
    fn items(&mut self) -> Option<Vec<Vec<Term>>> {
        let mut items = Vec::new();
        if matches!(self.peek(), Some(';' | '}') | None) {
            return Some(items);
        }
        loop {
            let mut terms = vec![self.term()?];
            while !matches!(self.peek(), Some(',' | ';' | '}') | None) {
                terms.push(self.term()?);
            }
            items.push(terms);
            if !self.eat(",") {
                break;
            }
        }
        Some(items)
    }

    fn term(&mut self) -> Option<Term> {
        match self.peek()? {
            '$' => {
                self.pos += 1;
                Some(Term::Field(self.field()?))
            }
            '"' => {
                self.pos += 1;
                Some(Term::Str(self.string()?))
            }
            c if c.is_ascii_digit() => Some(Term::Num(self.number()? as f64)),
            _ if self.eat_word("NR") => Some(Term::Nr),
            _ if self.eat_word("NF") => Some(Term::Nf),
            _ => None,
        }
    }

    /// After `$`: `N`, `NF`, `(N)`, `(NF)`, `(NF-N)`.
    fn field(&mut self) -> Option<FieldRef> {
        if self.eat_word("NF") {
            return Some(FieldRef::FromEnd(0));
        }
        if self.eat("(") {
            let f = if self.eat_word("NF") {
                if self.eat("-") {
                    FieldRef::FromEnd(self.number()?)
                } else {
                    FieldRef::FromEnd(0)
                }
            } else {
                FieldRef::Index(self.number()?)
            };
            return self.eat(")").then_some(f);
        }
        // `$1` reads the digits right after the `$`.
        if !self.chars.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        Some(FieldRef::Index(self.number()?))
    }

    fn number(&mut self) -> Option<usize> {
        self.skip_space();
        let start = self.pos;
        while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if start == self.pos {
            return None;
        }
        let digits: String = self.chars[start..self.pos].iter().collect();
        digits.parse().ok()
    }

    /// A string literal after its `"`.
    fn string(&mut self) -> Option<String> {
        let mut s = String::new();
        loop {
            let c = *self.chars.get(self.pos)?;
            self.pos += 1;
            match c {
                '"' => return Some(s),
                '\\' => {
                    let e = *self.chars.get(self.pos)?;
                    self.pos += 1;
                    match e {
                        'n' => s.push('\n'),
                        't' => s.push('\t'),
                        '"' | '\\' | '/' => s.push(e),
                        // POSIX leaves other escapes undefined; gawk and
                        // mawk keep the character, as here.
                        other => s.push(other),
                    }
                }
                c => s.push(c),
            }
        }
    }

    /// A regex literal after its `/`.
    fn regex(&mut self) -> Option<Regex> {
        let mut s = String::new();
        loop {
            let c = *self.chars.get(self.pos)?;
            self.pos += 1;
            match c {
                '/' => break,
                '\\' => {
                    let e = *self.chars.get(self.pos)?;
                    self.pos += 1;
                    match e {
                        '/' => s.push('/'),
                        't' => s.push('\t'),
                        'n' => s.push('\n'),
                        other => {
                            s.push('\\');
                            s.push(other);
                        }
                    }
                }
                c => s.push(c),
            }
        }
        compile(&s).ok()
    }

    fn pattern(&mut self) -> Option<Pattern> {
        if self.eat("!") {
            if !self.eat("/") {
                return None;
            }
            return Some(Pattern::Match {
                subject: None,
                regex: self.regex()?,
                negate: true,
            });
        }
        if self.eat("/") {
            return Some(Pattern::Match {
                subject: None,
                regex: self.regex()?,
                negate: false,
            });
        }
        let left = self.term()?;
        for (op, negate) in [("!~", true), ("~", false)] {
            if self.eat(op) {
                if !self.eat("/") {
                    return None;
                }
                return Some(Pattern::Match {
                    subject: Some(left),
                    regex: self.regex()?,
                    negate,
                });
            }
        }
        let cmp = [
            ("==", Cmp::Eq),
            ("!=", Cmp::Ne),
            ("<=", Cmp::Le),
            (">=", Cmp::Ge),
            ("<", Cmp::Lt),
            (">", Cmp::Gt),
        ]
        .into_iter()
        .find(|(s, _)| self.eat(s))
        .map(|(_, c)| c)?;
        let right = self.term()?;
        Some(Pattern::Compare(left, cmp, right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn awk(args: &[&str], input: &str) -> Result<String, String> {
        let words: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut p = parse(&words)?;
        let mut out = String::new();
        for line in input.lines() {
            p.feed(line, &mut out)?;
        }
        Ok(out)
    }

    const PODS: &str =
        "NAME      READY   STATUS\nweb-1     1/1     Running\ndb-0      0/1     Pending\n";

    #[test]
    fn print_selects_fields_split_on_runs_of_blanks() {
        assert_eq!(awk(&["{print $1}"], PODS).unwrap(), "NAME\nweb-1\ndb-0\n");
        assert_eq!(
            awk(&["{ print $1, $3 }"], "  a  b\tc  \n").unwrap(),
            "a c\n"
        );
        assert_eq!(
            awk(&["{print $NF}"], PODS).unwrap(),
            "STATUS\nRunning\nPending\n"
        );
        assert_eq!(awk(&["{print $(NF-1)}"], "a b c\n").unwrap(), "b\n");
        assert_eq!(awk(&["{print $0}"], "a  b\n").unwrap(), "a  b\n");
        assert_eq!(awk(&["{print $9}"], "a b\n").unwrap(), "\n");
    }

    #[test]
    fn print_joins_commas_with_a_space_and_concatenates_the_rest() {
        assert_eq!(
            awk(&[r#"{print $1 "=" $2, "x"}"#], "a b\n").unwrap(),
            "a=b x\n"
        );
        assert_eq!(
            awk(&["{print NR\": \"$1}"], "a\nb\n").unwrap(),
            "1: a\n2: b\n"
        );
        assert_eq!(awk(&["{print}"], "a b\n").unwrap(), "a b\n");
        assert_eq!(awk(&["{print $1; print NF}"], "a b\n").unwrap(), "a\n2\n");
        assert_eq!(awk(&["{}"], "a b\n").unwrap(), "");
    }

    #[test]
    fn nr_patterns_skip_the_header() {
        assert_eq!(awk(&["NR>1 {print $1}"], PODS).unwrap(), "web-1\ndb-0\n");
        assert_eq!(
            awk(&["NR==2"], PODS).unwrap(),
            "web-1     1/1     Running\n"
        );
        assert_eq!(awk(&["NF > 2 {print NF}"], "a b c\nd\n").unwrap(), "3\n");
    }

    #[test]
    fn regex_patterns_match_records_or_fields() {
        assert_eq!(awk(&["/Run+ing/ {print $1}"], PODS).unwrap(), "web-1\n");
        assert_eq!(awk(&["!/Running/"], PODS).unwrap().lines().count(), 2);
        assert_eq!(awk(&["$3 ~ /^P/ {print $1}"], PODS).unwrap(), "db-0\n");
        assert_eq!(
            awk(&["$3 !~ /^P/ {print $1}"], PODS).unwrap(),
            "NAME\nweb-1\n"
        );
        assert_eq!(
            awk(&[r#"$3 == "Running" {print $1}"#], PODS).unwrap(),
            "web-1\n"
        );
    }

    #[test]
    fn comparisons_are_numeric_when_both_sides_look_like_numbers() {
        assert_eq!(
            awk(&["$2 > 9 {print $1}"], "a 10\nb 9\nc x\n").unwrap(),
            "a\nc\n"
        );
    }

    #[test]
    fn a_field_separator_splits_on_each_occurrence() {
        assert_eq!(awk(&["-F:", "{print $2}"], "a::c\n").unwrap(), "\n");
        assert_eq!(awk(&["-F", ":", "{print $3}"], "a::c\n").unwrap(), "c\n");
        assert_eq!(
            awk(&["-F", "\\t", "{print $2}"], "a b\tc\n").unwrap(),
            "c\n"
        );
        assert_eq!(
            awk(&["-F", "[/-]", "{print $2}"], "a-b/c\n").unwrap(),
            "b\n"
        );
    }

    #[test]
    fn other_programs_are_refused_with_what_runs() {
        for program in [
            "BEGIN {print 1}",
            "{printf \"%s\", $1}",
            "{x = $1}",
            "{print $1",
            "{print $}",
            "NR>1 {print $1} END {print}",
            "",
        ] {
            let e = awk(&[program], "a\n").unwrap_err();
            assert!(e.contains("runs one rule"), "{program}: {e}");
        }
        assert!(awk(&["{print $1}", "file"], "")
            .unwrap_err()
            .contains("No such file"));
    }

    #[test]
    fn a_negative_field_is_gawks_fatal_error() {
        assert_eq!(
            awk(&["{print $(NF-1)}"], "\n").unwrap_err(),
            "awk: cmd. line:1: (FILENAME=- FNR=1) fatal: attempt to access field -1"
        );
    }
}
