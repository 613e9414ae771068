//! POSIX regular expressions, as GNU grep reads them, translated into
//! `regex-lite`'s syntax (a Rust-regex dialect).
//!
//! Basic regular expressions (grep's default; GNU grep manual §3.6 "Basic
//! vs Extended Regular Expressions"): `+ ? | ( ) { }` are ordinary
//! characters, and `\+ \? \| \( \) \{ \}` are the operators. A `*` (or
//! `\+`, `\?`, `\{`) at the start of the expression, of a group or of an
//! alternative is an ordinary character; `^` is an anchor only at such a
//! start and `$` only at the end of the expression, of a group or of an
//! alternative, and ordinary characters elsewhere.
//!
//! Extended regular expressions (`grep -E`, awk's `/.../`): the operators
//! without backslashes; `^` and `$` anchor anywhere; a `{` that does not
//! start a valid interval (`a{`, `a{x}`) is an ordinary character, as is a
//! `)` with no group open; a repetition operator at the start of an
//! expression is dropped (GNU grep warns "* at start of expression" and
//! matches as if it were not there).
//!
//! Both: bracket expressions with ranges and `[:class:]`, `[=c=]`, `[.c.]`
//! (one-character collating elements, as in the C locale), where a
//! backslash is an ordinary character; GNU's `\w \W \s \S \b \B \< \>`
//! and `` \` \' ``; any other escaped character stands for itself.
//! Intervals allow at most RE_DUP_MAX (32767) repetitions. Left out:
//! back-references (`\1`), which regex-lite's automaton cannot match; they
//! are an error, never silently something else. The errors carry glibc's
//! wording (`Unmatched ( or \(`), which grep prints after `grep: `.

/// glibc's RE_DUP_MAX: the largest count in an interval.
const DUP_MAX: u32 = 32767;

/// How deeply groups may nest: deeper is refused before the recursion
/// could exhaust the (wasm) stack.
const MAX_DEPTH: usize = 64;

/// `pattern` in regex-lite's syntax, or glibc's message for what is wrong
/// with it.
pub(crate) fn translate(pattern: &str, extended: bool) -> Result<String, String> {
    let mut p = Parser {
        chars: pattern.chars().collect(),
        pos: 0,
        extended,
        groups: 0,
    };
    let out = p.alternation(0)?;
    if p.pos < p.chars.len() {
        // Only a closing group operator stops the top level.
        return Err("Unmatched ) or \\)".into());
    }
    Ok(out)
}

/// Every character of `s` matched literally.
pub(crate) fn literal(s: &str) -> String {
    s.chars().map(literal_char).collect()
}

fn literal_char(c: char) -> String {
    if c.is_ascii_punctuation() && c != '<' && c != '>' {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    extended: bool,
    /// Groups opened so far (for "Invalid back reference").
    groups: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    /// Whether the next token is the alternation operator.
    fn at_alternation(&self) -> bool {
        if self.extended {
            self.peek() == Some('|')
        } else {
            self.peek() == Some('\\') && self.peek_at(1) == Some('|')
        }
    }

    /// Whether the next token closes a group (at `depth` > 0).
    fn at_group_end(&self, depth: usize) -> bool {
        if self.extended {
            depth > 0 && self.peek() == Some(')')
        } else {
            self.peek() == Some('\\') && self.peek_at(1) == Some(')')
        }
    }

    fn alternation(&mut self, depth: usize) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err("Regular expression too big".into());
        }
        let mut branches = vec![self.branch(depth)?];
        while self.at_alternation() {
            self.pos += if self.extended { 1 } else { 2 };
            branches.push(self.branch(depth)?);
        }
        Ok(branches.join("|"))
    }

    /// One alternative: pieces up to `|`, the group's end or the end.
    fn branch(&mut self, depth: usize) -> Result<String, String> {
        let mut out = String::new();
        // Whether an atom was read in this branch (a repetition operator
        // before one is literal in a BRE, dropped in an ERE).
        let mut atoms = 0;
        // Whether anything (an atom or an anchor) was read: a BRE `^` is
        // an anchor only before that.
        let mut started = false;
        let mut last: Option<String> = None;
        loop {
            if self.pos >= self.chars.len() || self.at_alternation() || self.at_group_end(depth) {
                break;
            }
            // A repetition operator applies to the last atom.
            if let Some(rep) = self.repetition(atoms == 0)? {
                match (&mut last, rep) {
                    (Some(atom), Rep::Op(op)) => *atom = format!("(?:{atom}){op}"),
                    (None, Rep::Op(_)) => {}
                    (_, Rep::Literal(c)) => {
                        if let Some(a) = last.take() {
                            out.push_str(&a);
                        }
                        last = Some(literal_char(c));
                        atoms += 1;
                        started = true;
                    }
                }
                continue;
            }
            let atom = self.atom(depth, !started)?;
            started = true;
            if let Some(a) = last.take() {
                out.push_str(&a);
            }
            match atom {
                Atom::Anchor(a) => {
                    // `^*` in a BRE: the star is literal, as at the start.
                    out.push_str(a);
                }
                Atom::Piece(p) => {
                    last = Some(p);
                    atoms += 1;
                }
            }
        }
        if let Some(a) = last {
            out.push_str(&a);
        }
        Ok(out)
    }

    /// A repetition operator at the cursor, consumed. `at_start`: no atom
    /// precedes it in this branch.
    fn repetition(&mut self, at_start: bool) -> Result<Option<Rep>, String> {
        let (c, n) = (self.peek(), self.peek_at(1));
        let simple = match (self.extended, c, n) {
            (_, Some('*'), _) => Some(('*', 1)),
            (true, Some('+'), _) => Some(('+', 1)),
            (true, Some('?'), _) => Some(('?', 1)),
            (false, Some('\\'), Some('+')) => Some(('+', 2)),
            (false, Some('\\'), Some('?')) => Some(('?', 2)),
            _ => None,
        };
        if let Some((op, len)) = simple {
            self.pos += len;
            if at_start && !self.extended {
                return Ok(Some(Rep::Literal(op)));
            }
            return Ok(Some(Rep::Op(op.to_string())));
        }
        let interval = matches!(
            (self.extended, c, n),
            (true, Some('{'), _) | (false, Some('\\'), Some('{'))
        );
        if !interval {
            return Ok(None);
        }
        if at_start && !self.extended {
            self.pos += 2;
            return Ok(Some(Rep::Literal('{')));
        }
        let start = self.pos;
        self.pos += if self.extended { 1 } else { 2 };
        match self.interval()? {
            Some(op) => Ok(Some(Rep::Op(op))),
            None => {
                // An ERE `{` that starts no valid interval is literal.
                self.pos = start + 1;
                Ok(Some(Rep::Literal('{')))
            }
        }
    }

    /// The body of an interval after `{` / `\{`, up to and past its close.
    /// `None` (ERE only): not an interval, the `{` is literal.
    fn interval(&mut self) -> Result<Option<String>, String> {
        let number = |p: &mut Parser| -> Option<u64> {
            let begin = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.pos += 1;
            }
            let digits: String = p.chars[begin..p.pos].iter().collect();
            if digits.is_empty() {
                None
            } else {
                Some(digits.parse::<u64>().unwrap_or(u64::MAX))
            }
        };
        let min = number(self);
        let max = if self.peek() == Some(',') {
            self.pos += 1;
            Some(number(self))
        } else {
            None
        };
        let closed = if self.extended {
            if self.peek() == Some('}') {
                self.pos += 1;
                true
            } else {
                false
            }
        } else if self.peek() == Some('\\') && self.peek_at(1) == Some('}') {
            self.pos += 2;
            true
        } else {
            false
        };
        let valid = closed && (min.is_some() || matches!(max, Some(Some(_))));
        if !valid {
            if self.extended {
                return Ok(None);
            }
            let rest: String = self.chars[self.pos.min(self.chars.len())..]
                .iter()
                .collect();
            return Err(if rest.contains("\\}") || closed {
                "Invalid content of \\{\\}".into()
            } else {
                "Unmatched \\{".into()
            });
        }
        let lo = min.unwrap_or(0);
        let hi = match max {
            None => Some(lo),
            Some(None) => None,
            Some(Some(h)) => Some(h),
        };
        if lo > u64::from(DUP_MAX) || hi.is_some_and(|h| h > u64::from(DUP_MAX)) {
            return Err("Regular expression too big".into());
        }
        if hi.is_some_and(|h| h < lo) {
            return Err("Invalid content of \\{\\}".into());
        }
        Ok(Some(match (max, hi) {
            (None, _) => format!("{{{lo}}}"),
            (Some(_), None) => format!("{{{lo},}}"),
            (Some(_), Some(h)) => format!("{{{lo},{h}}}"),
        }))
    }

    fn atom(&mut self, depth: usize, at_start: bool) -> Result<Atom, String> {
        let Some(c) = self.peek() else {
            return Err("Unmatched ( or \\(".into());
        };
        self.pos += 1;
        Ok(match c {
            '.' => Atom::Piece(".".into()),
            '[' => Atom::Piece(self.bracket()?),
            '^' if self.extended || at_start => Atom::Anchor("^"),
            '$' if self.extended || self.at_end_of_branch(depth) => Atom::Anchor("$"),
            '(' if self.extended => Atom::Piece(self.group(depth)?),
            '\\' => {
                let Some(e) = self.peek() else {
                    return Err("Trailing backslash".into());
                };
                self.pos += 1;
                match e {
                    '(' if !self.extended => Atom::Piece(self.group(depth)?),
                    '1'..='9' => {
                        let n = e as usize - '0' as usize;
                        return Err(if n > self.groups {
                            "Invalid back reference".into()
                        } else {
                            format!("back-references (\\{n}) are not supported by the simulated shell's grep")
                        });
                    }
                    'w' | 'W' | 's' | 'S' | 'b' | 'B' => Atom::Piece(format!("\\{e}")),
                    '<' => Atom::Piece("\\b{start}".into()),
                    '>' => Atom::Piece("\\b{end}".into()),
                    '`' => Atom::Anchor("\\A"),
                    '\'' => Atom::Anchor("\\z"),
                    other => Atom::Piece(literal_char(other)),
                }
            }
            other => Atom::Piece(literal_char(other)),
        })
    }

    /// Whether the cursor (just past a `$`) is at the end of the
    /// expression, of the group or of the alternative (BRE anchors).
    fn at_end_of_branch(&self, depth: usize) -> bool {
        self.pos >= self.chars.len() || self.at_alternation() || self.at_group_end(depth.max(1))
    }

    /// A group after its opening operator, up to and past its close.
    fn group(&mut self, depth: usize) -> Result<String, String> {
        let inner = self.alternation(depth + 1)?;
        if !self.at_group_end(depth + 1) {
            return Err("Unmatched ( or \\(".into());
        }
        self.pos += if self.extended { 1 } else { 2 };
        self.groups += 1;
        Ok(format!("(?:{inner})"))
    }

    /// A bracket expression after its `[`, up to and past its `]`.
    fn bracket(&mut self) -> Result<String, String> {
        const UNMATCHED: &str = "Unmatched [, [^, [:, [., or [=";
        let begin = self.pos;
        let mut out = String::from("[");
        if self.peek() == Some('^') {
            self.pos += 1;
            out.push('^');
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err(UNMATCHED.into());
            };
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            // One element: a character (maybe a collating element or an
            // equivalence class) or a character class.
            let lo = match (c, self.peek_at(1)) {
                ('[', Some(':')) => {
                    self.pos += 2;
                    let name = self.until_close(':')?;
                    const CLASSES: &[&str] = &[
                        "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print",
                        "punct", "space", "upper", "xdigit",
                    ];
                    if !CLASSES.contains(&name.as_str()) {
                        return Err("Invalid character class name".into());
                    }
                    out.push_str(&format!("[:{name}:]"));
                    continue;
                }
                ('[', Some(k @ ('=' | '.'))) => {
                    self.pos += 2;
                    let name = self.until_close(k)?;
                    let mut cs = name.chars();
                    match (cs.next(), cs.next()) {
                        (Some(one), None) => one,
                        _ => return Err("Invalid collation character".into()),
                    }
                }
                _ => {
                    self.pos += 1;
                    c
                }
            };
            // A range `lo-hi`, unless the `-` is the last character.
            if self.peek() == Some('-') && self.peek_at(1).is_some_and(|n| n != ']') {
                self.pos += 1;
                let hi = match (self.peek(), self.peek_at(1)) {
                    (Some('['), Some(k @ ('=' | '.'))) => {
                        self.pos += 2;
                        let name = self.until_close(k)?;
                        let mut cs = name.chars();
                        match (cs.next(), cs.next()) {
                            (Some(one), None) => one,
                            _ => return Err("Invalid collation character".into()),
                        }
                    }
                    (Some(h), _) => {
                        self.pos += 1;
                        h
                    }
                    (None, _) => return Err(UNMATCHED.into()),
                };
                if hi < lo {
                    return Err("Invalid range end".into());
                }
                out.push_str(&class_char(lo));
                out.push('-');
                out.push_str(&class_char(hi));
            } else {
                out.push_str(&class_char(lo));
            }
        }
        let raw: String = self.chars[begin..self.pos - 1].iter().collect();
        if raw.len() >= 2 && raw.starts_with(':') && raw.ends_with(':') {
            return Err(format!("character class syntax is [[{raw}]], not [{raw}]"));
        }
        out.push(']');
        Ok(out)
    }

    /// The text up to `k]` (the close of `[:`, `[=`, `[.`), consumed.
    fn until_close(&mut self, k: char) -> Result<String, String> {
        let begin = self.pos;
        while self.pos + 1 < self.chars.len() {
            if self.chars[self.pos] == k && self.chars[self.pos + 1] == ']' {
                let name = self.chars[begin..self.pos].iter().collect();
                self.pos += 2;
                return Ok(name);
            }
            self.pos += 1;
        }
        Err("Unmatched [, [^, [:, [., or [=".into())
    }
}

/// A character inside a regex-lite class: its metacharacters escaped.
fn class_char(c: char) -> String {
    match c {
        '\\' | '[' | ']' | '^' | '-' | '&' | '~' => format!("\\{c}"),
        c => c.to_string(),
    }
}

enum Atom {
    /// Matches a character (or a group of them): may be repeated.
    Piece(String),
    /// An assertion: `^`, `$`, `\A`, `\z`.
    Anchor(&'static str),
}

enum Rep {
    /// `*`, `+`, `?` or `{m,n}` in regex-lite's syntax.
    Op(String),
    /// An operator that is an ordinary character where it stands.
    Literal(char),
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex_lite::Regex;

    fn matches(pattern: &str, extended: bool, line: &str) -> bool {
        let t = translate(pattern, extended).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        Regex::new(&t)
            .unwrap_or_else(|e| panic!("{pattern} -> {t}: {e}"))
            .is_match(line)
    }

    fn bre(p: &str, line: &str) -> bool {
        matches(p, false, line)
    }

    fn ere(p: &str, line: &str) -> bool {
        matches(p, true, line)
    }

    #[test]
    fn basic_regex_operators_are_the_backslashed_ones() {
        assert!(bre("a+b", "a+b") && !bre("a+b", "aab"));
        assert!(bre("a\\+b", "aab"));
        assert!(bre("a\\?b", "b") && bre("colou\\?r", "color"));
        assert!(bre("web\\|dns", "coredns") && !bre("web|dns", "coredns"));
        assert!(bre("(x)", "(x)") && bre("\\(ab\\)*c", "ababc"));
        assert!(bre("a{2}", "a{2}") && bre("a\\{2\\}", "aa") && !bre("a\\{2\\}", "a"));
        assert!(bre("a\\{,2\\}b", "b"));
    }

    #[test]
    fn extended_regex_operators_are_the_bare_ones() {
        assert!(ere("web|dns", "coredns"));
        assert!(ere("a+b", "aab") && !ere("a+b", "a+b"));
        assert!(ere("(ab){2}", "abab"));
        assert!(ere("a\\+b", "a+b"));
        assert!(ere("a{", "a{") && ere("a{x}", "a{x}") && ere("a{1", "a{1"));
        assert!(ere("a)", "a)"));
    }

    #[test]
    fn a_leading_star_is_literal_in_a_bre_and_dropped_in_an_ere() {
        assert!(bre("*a", "*a") && !bre("*a", "a"));
        assert!(bre("\\(*a\\)", "*a") && !bre("\\(*a\\)", "a"));
        assert!(bre("^*a", "*a"));
        assert!(bre("x\\|*b", "*b") && !bre("x\\|*b", "b"));
        assert!(ere("*a", "a") && ere("+a", "a"));
        assert!(!ere("^*a", "*a"));
        assert!(bre("\\{1\\}a", "{1}a"));
    }

    #[test]
    fn anchors_in_a_bre_are_literal_in_the_middle() {
        assert!(bre("a^b", "a^b") && bre("a$b", "a$b"));
        assert!(bre("^^a", "^a") && !bre("^^a", "a"));
        assert!(bre("a$$", "a$") && !bre("a$$", "a"));
        assert!(bre("\\(^a\\)", "ab") && !bre("\\(^a\\)", "ba"));
        assert!(bre("x\\|^b", "b") && bre("a$\\|x", "a"));
        assert!(!ere("a^b", "a^b") && !ere("a$b", "a$b"));
    }

    #[test]
    fn bracket_expressions_keep_backslashes_and_posix_classes() {
        assert!(bre("[\\]", "\\"));
        assert!(bre("[]a]*x", "]]ax"));
        assert!(bre("[^]a]", "x") && !bre("^[^]a]$", "]"));
        assert!(bre("^[a-]*$", "a-a-"));
        assert!(bre("^[[:digit:]]\\+$", "123") && !bre("[[:digit:]]", "abc"));
        assert!(bre("[[=a=]]", "a") && bre("[[.a.]]", "a"));
        assert!(bre("[&~]", "~"));
        assert!(ere("^[0-9]+/[0-9]+$", "1/1"));
    }

    #[test]
    fn gnu_escapes_match_words_and_edges() {
        assert!(bre("\\<dns\\>", "core dns") && !bre("\\<dns\\>", "coredns"));
        assert!(bre("\\bweb\\b", "a web b"));
        assert!(bre("\\w\\+", "x") && bre("\\s", "a b"));
        assert!(bre("a\\.b", "a.b") && !bre("a\\.b", "axb"));
        assert!(bre("\\\\", "\\"));
    }

    #[test]
    fn malformed_expressions_get_glibcs_messages() {
        let e = |p: &str, ext: bool| translate(p, ext).unwrap_err();
        assert_eq!(e("\\(a", false), "Unmatched ( or \\(");
        assert_eq!(e("(a", true), "Unmatched ( or \\(");
        assert_eq!(e("a\\)", false), "Unmatched ) or \\)");
        assert_eq!(e("[a", false), "Unmatched [, [^, [:, [., or [=");
        assert_eq!(e("a\\{1", false), "Unmatched \\{");
        assert_eq!(e("a\\{x\\}", false), "Invalid content of \\{\\}");
        assert_eq!(e("a\\{2,1\\}", false), "Invalid content of \\{\\}");
        assert_eq!(e("a{99999}", true), "Regular expression too big");
        assert_eq!(e("a\\", false), "Trailing backslash");
        assert_eq!(e("[[:foo:]]", false), "Invalid character class name");
        assert_eq!(e("[z-a]", false), "Invalid range end");
        assert_eq!(
            e("[:space:]", false),
            "character class syntax is [[:space:]], not [:space:]"
        );
        assert_eq!(e("x\\1", false), "Invalid back reference");
        assert!(e("\\(a\\)\\1", false).contains("not supported"));
        assert_eq!(e("[[.hyphen.]]", false), "Invalid collation character");
    }

    #[test]
    fn deep_nesting_is_refused_rather_than_overflowing_the_stack() {
        let deep = "(".repeat(10_000) + &")".repeat(10_000);
        assert_eq!(
            translate(&deep, true).unwrap_err(),
            "Regular expression too big"
        );
    }

    #[test]
    fn literal_escapes_every_metacharacter() {
        let l = literal("a.b*c[d]|(e)^$\\ <x>");
        let re = Regex::new(&format!("^{l}$")).unwrap();
        assert!(re.is_match("a.b*c[d]|(e)^$\\ <x>"));
        assert!(!re.is_match("aXb*c[d]|(e)^$\\ <x>"));
    }
}
