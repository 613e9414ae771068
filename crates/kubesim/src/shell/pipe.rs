//! Pipes in the simulated shell: `kubectl get pods -A | grep coredns | wc -l`.
//!
//! A line's first stage is a command of the language (`kubectl`, `sim`,
//! `curl`, `help`, ...); each stage after a `|` is one of the text filters
//! here, run in order over the first stage's standard output, as the GNU
//! tools run them (grep 3, coreutils 9, util-linux's column, POSIX awk):
//!
//! - `grep [-i -v -c -n -o -q -w -x -m N -E -F -G] [-e PATTERN]... PATTERN`
//!   (also `egrep`, `fgrep`): basic regular expressions by default
//!   (`pipe/pattern.rs` translates them for `regex-lite`); no match prints
//!   nothing and fails (grep's exit status 1);
//! - `head [-n N | -N | -n -N]`, `tail [-n N | -N | -n +N]` (10 lines);
//! - `wc [-l -w -m -c]`, with GNU's column widths for standard input;
//! - `sort [-b -f -n -r -s -u] [-t SEP] [-k POS1[,POS2]]` (`pipe/sort.rs`),
//!   `uniq [-c -d -u -i]`;
//! - `cut -f LIST [-d SEP] [-s] [--output-delimiter S]`, `cut -c LIST`;
//! - `tr [-d] [-s] SET1 [SET2]` with ranges and `[:class:]`es;
//! - `awk [-F SEP] '[PATTERN] {print ITEM, ...}'` (`pipe/awk.rs`);
//! - `column -t [-s SEP] [-o SEP]`; `cat [-n]`, and `less`/`more`, which
//!   pass everything through (the console scrolls).
//!
//! Standard error is not piped: a first stage that fails prints its error
//! unfiltered, and the lines kubectl writes to stderr while succeeding
//! ([`split_stderr`]: `No resources found ...`, `Warning: ...`) print
//! before the filtered output. A pipeline succeeds as its last stage does
//! (bash without `pipefail`). An output that keeps growing (`kubectl get
//! -w`, `logs -f`, `attach`, `port-forward`) keeps its filters: a
//! [`Stream`] runs the later rows through them as they arrive, for the
//! filters that work line by line; a filter that needs the whole input
//! (`head`, `tail -n N`, `sort`, `uniq`, `wc`, `column`, `grep -c`/`-q`)
//! after such a command is refused (see [`Filter::needs_whole_input`]).
//!
//! Left out: files (a filter reads only the pipe: a file operand is
//! "No such file or directory"), other programs (`jq`, `xargs`, `sed`:
//! bash's "command not found"), `|&`, `||`/`&&` lists, redirections,
//! grep's context lines (`-A/-B/-C`) and back-references, and GNU grep's
//! "warning: * at start of expression" (the expression still matches as
//! GNU's does). Locale: the C locale's byte order for sort and ASCII
//! classes for the regular expressions.

mod awk;
mod pattern;
mod sort;

use regex_lite::{Regex, RegexBuilder};
use std::collections::VecDeque;
use std::fmt::Write as _;

/// The programs that can follow a `|` (what completion offers there).
pub const FILTERS: &[&str] = &[
    "awk", "cat", "column", "cut", "egrep", "fgrep", "grep", "head", "less", "more", "sort",
    "tail", "tr", "uniq", "wc",
];

/// One stage after a `|`: the words as typed, and the filter they make.
#[derive(Clone, Debug)]
pub struct Filter {
    words: Vec<String>,
    op: Op,
}

impl PartialEq for Filter {
    /// Two filters are the same when typed the same (the compiled parts
    /// follow from the words).
    fn eq(&self, other: &Self) -> bool {
        self.words == other.words
    }
}

impl Filter {
    /// Parses one stage's words, or the message the program (or bash, for
    /// an unknown one) would print.
    pub fn parse(words: &[String]) -> Result<Filter, String> {
        let Some((program, args)) = words.split_first() else {
            return Err("syntax error near unexpected token `|'".into());
        };
        let op = match program.as_str() {
            "grep" => grep(args, Syntax::Basic, "grep")?,
            "egrep" => grep(args, Syntax::Extended, "egrep")?,
            "fgrep" => grep(args, Syntax::Fixed, "fgrep")?,
            "head" => head(args)?,
            "tail" => tail(args)?,
            "wc" => wc(args)?,
            "sort" => sort_filter(args)?,
            "uniq" => uniq(args)?,
            "cut" => cut(args)?,
            "tr" => tr(args)?,
            "awk" => Op::Awk(awk::parse(args)?),
            "column" => column(args)?,
            "cat" => cat(args)?,
            "less" | "more" => pager(program, args)?,
            "kubectl" | "k" | "sim" | "curl" | "jobs" | "kill" | "help" => {
                return Err(format!(
                    "error: {program} cannot read a pipe in the simulated shell: after `|` it runs only the text filters {}",
                    FILTERS.join(", ")
                ))
            }
            other => {
                return Err(format!(
                    "bash: {other}: command not found\n(after `|` the simulated shell runs {})",
                    FILTERS.join(", ")
                ))
            }
        };
        Ok(Filter {
            words: words.to_vec(),
            op,
        })
    }

    /// The program's name (`grep`).
    pub fn program(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }

    /// The stage as typed.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether the filter prints only once its input has ended, so it
    /// cannot follow an output that keeps growing (`kubectl get -w`).
    pub fn needs_whole_input(&self) -> bool {
        match &self.op {
            Op::Grep(g) => g.count || g.quiet,
            Op::Head { .. } | Op::Wc { .. } | Op::Sort(_) | Op::Uniq { .. } | Op::Column { .. } => {
                true
            }
            Op::Tail { keep, .. } => matches!(keep, TailKeep::Last(_)),
            Op::Cut(_) | Op::Tr(_) | Op::Awk(_) | Op::Cat { .. } | Op::Pager => false,
        }
    }
}

/// What a pipeline's filters printed for a finished input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piped {
    /// The last filter's output (lines ending in `\n`).
    pub stdout: String,
    /// What the filters wrote to standard error.
    pub stderr: String,
    /// The last filter's exit status was 0.
    pub ok: bool,
}

/// Runs `filters` in order over `input` (a command's whole standard
/// output; see [`terminated`]).
pub fn run(filters: &[Filter], input: &str) -> Piped {
    let mut text = input.to_string();
    let mut stderr = String::new();
    let mut ok = true;
    for f in filters {
        let mut op = f.op.clone();
        let mut out = String::new();
        let mut failed = false;
        for (line, nl) in lines(&text) {
            if let Err(e) = op.feed(line, nl, &mut out) {
                stderr.push_str(&e);
                stderr.push('\n');
                failed = true;
                break;
            }
        }
        if !failed {
            op.finish(&mut out);
        }
        ok = !failed && op.ok();
        text = out;
    }
    Piped {
        stdout: text,
        stderr,
        ok,
    }
}

/// A command's printed output as the bytes a pipe carries: every line,
/// the last included, ends in a newline (the language's outputs leave the
/// last one off).
pub fn terminated(output: &str) -> String {
    if output.is_empty() || output.ends_with('\n') {
        output.to_string()
    } else {
        format!("{output}\n")
    }
}

/// Splits a kubectl command's output into what kubectl writes to
/// standard error while succeeding and its standard output: kubectl's
/// `No resources found[ in NS namespace.]` (`printers.go`,
/// `PrintSuccess`'s stderr) and `Warning: ...`/`warning: ...` lines (the
/// API server's warnings, drain's and delete's). Returns (stderr, stdout).
pub fn split_stderr(output: &str) -> (String, String) {
    let mut err = Vec::new();
    let mut out = Vec::new();
    for line in output.split('\n') {
        let to_stderr = line == "No resources found"
            || (line.starts_with("No resources found in ") && line.ends_with(" namespace."))
            || line.starts_with("Warning: ")
            || line.starts_with("warning: ");
        if to_stderr {
            err.push(line);
        } else {
            out.push(line);
        }
    }
    if err.is_empty() {
        return (String::new(), output.to_string());
    }
    (err.join("\n"), out.join("\n"))
}

/// The filters of a pipeline whose first stage keeps printing (`kubectl
/// get -w | grep web`): each chunk of later output runs through them as it
/// arrives. Only filters that work line by line are kept this way; a
/// partial line waits for its end, as it would in grep's buffer.
#[derive(Clone, Debug)]
pub struct Stream {
    ops: Vec<Op>,
    /// Each stage's unfinished last line.
    partial: Vec<String>,
    /// Stages that stopped with an error (awk's fatal): they pass nothing.
    failed: Vec<bool>,
}

impl Stream {
    /// The running filters (callers check [`Filter::needs_whole_input`]
    /// first: such a filter here would hold its input forever).
    pub fn new(filters: &[Filter]) -> Stream {
        Stream {
            ops: filters.iter().map(|f| f.op.clone()).collect(),
            partial: vec![String::new(); filters.len()],
            failed: vec![false; filters.len()],
        }
    }

    /// What the last filter prints for `chunk` (more of the first stage's
    /// standard output), followed by any filter's error.
    pub fn feed(&mut self, chunk: &str) -> String {
        let mut text = chunk.to_string();
        let mut errors = String::new();
        for (i, op) in self.ops.iter_mut().enumerate() {
            if self.failed[i] {
                text.clear();
                continue;
            }
            let mut buf = std::mem::take(&mut self.partial[i]);
            buf.push_str(&text);
            let complete = buf.rfind('\n').map_or(0, |p| p + 1);
            self.partial[i] = buf[complete..].to_string();
            let mut out = String::new();
            for (line, nl) in lines(&buf[..complete]) {
                if let Err(e) = op.feed(line, nl, &mut out) {
                    self.failed[i] = true;
                    errors.push_str(&e);
                    errors.push('\n');
                    break;
                }
            }
            text = out;
        }
        text + &errors
    }
}

/// The lines of `text`, each with whether a newline ended it.
fn lines(text: &str) -> impl Iterator<Item = (&str, bool)> {
    text.split_inclusive('\n')
        .map(|l| match l.strip_suffix('\n') {
            Some(line) => (line, true),
            None => (l, false),
        })
}

// ----- the filters -----

#[derive(Clone, Debug)]
enum Op {
    Grep(Grep),
    Head {
        keep: HeadKeep,
        seen: u64,
        held: VecDeque<(String, bool)>,
    },
    Tail {
        keep: TailKeep,
        seen: u64,
        held: VecDeque<(String, bool)>,
    },
    Wc {
        show: [bool; 4],
        counts: [u64; 4],
    },
    Sort(sort::Sort),
    Uniq(Uniq),
    Cut(Cut),
    Tr(Tr),
    Awk(awk::Program),
    Column {
        separators: Option<Vec<char>>,
        out_sep: String,
        rows: Vec<Vec<String>>,
    },
    Cat {
        number: bool,
        n: u64,
    },
    Pager,
}

#[derive(Clone, Copy, Debug)]
enum HeadKeep {
    First(u64),
    AllBut(u64),
}

#[derive(Clone, Copy, Debug)]
enum TailKeep {
    Last(u64),
    From(u64),
}

fn push_line(out: &mut String, line: &str, nl: bool) {
    out.push_str(line);
    if nl {
        out.push('\n');
    }
}

impl Op {
    /// One line of input (`nl`: a newline ended it), and what the filter
    /// prints for it now.
    fn feed(&mut self, line: &str, nl: bool, out: &mut String) -> Result<(), String> {
        match self {
            Op::Grep(g) => g.feed(line, out),
            Op::Head { keep, seen, held } => {
                match *keep {
                    HeadKeep::First(n) => {
                        if *seen < n {
                            push_line(out, line, nl);
                        }
                    }
                    HeadKeep::AllBut(n) => {
                        held.push_back((line.to_string(), nl));
                        if held.len() as u64 > n {
                            if let Some((l, nl)) = held.pop_front() {
                                push_line(out, &l, nl);
                            }
                        }
                    }
                }
                *seen += 1;
                Ok(())
            }
            Op::Tail { keep, seen, held } => {
                *seen += 1;
                match *keep {
                    TailKeep::Last(n) => {
                        if n > 0 {
                            held.push_back((line.to_string(), nl));
                            if held.len() as u64 > n {
                                held.pop_front();
                            }
                        }
                    }
                    TailKeep::From(n) => {
                        if *seen >= n {
                            push_line(out, line, nl);
                        }
                    }
                }
                Ok(())
            }
            Op::Wc { counts, .. } => {
                let nl_count = u64::from(nl);
                counts[0] += nl_count;
                counts[1] += line.split_whitespace().count() as u64;
                counts[2] += line.chars().count() as u64 + nl_count;
                counts[3] += line.len() as u64 + nl_count;
                Ok(())
            }
            Op::Sort(s) => {
                s.lines.push(line.to_string());
                Ok(())
            }
            Op::Uniq(u) => {
                u.feed(line, out);
                Ok(())
            }
            Op::Cut(c) => {
                c.feed(line, out);
                Ok(())
            }
            Op::Tr(t) => {
                t.feed(line, nl, out);
                Ok(())
            }
            Op::Awk(p) => p.feed(line, out),
            Op::Column {
                separators, rows, ..
            } => {
                let cells: Vec<String> = match separators {
                    None => line
                        .split([' ', '\t'])
                        .filter(|c| !c.is_empty())
                        .map(str::to_string)
                        .collect(),
                    Some(seps) => line
                        .split(|c| seps.contains(&c))
                        .filter(|c| !c.is_empty())
                        .map(str::to_string)
                        .collect(),
                };
                if !cells.is_empty() {
                    rows.push(cells);
                }
                Ok(())
            }
            Op::Cat { number, n } => {
                if *number {
                    *n += 1;
                    let _ = write!(out, "{:>6}\t", n);
                }
                push_line(out, line, nl);
                Ok(())
            }
            Op::Pager => {
                push_line(out, line, nl);
                Ok(())
            }
        }
    }

    /// What the filter prints once its input has ended.
    fn finish(&mut self, out: &mut String) {
        match self {
            Op::Grep(g) if g.count && !g.quiet => {
                let _ = writeln!(out, "{}", g.selected);
            }
            Op::Tail {
                keep: TailKeep::Last(_),
                held,
                ..
            } => {
                for (l, nl) in held.drain(..) {
                    push_line(out, &l, nl);
                }
            }
            Op::Wc { show, counts } => {
                // coreutils wc.c: a lone count prints as is; several are
                // right-aligned in 7 columns when reading standard input.
                let shown: Vec<u64> = (0..4).filter(|i| show[*i]).map(|i| counts[i]).collect();
                let width = if shown.len() == 1 { 1 } else { 7 };
                let cols: Vec<String> = shown.iter().map(|c| format!("{c:>width$}")).collect();
                let _ = writeln!(out, "{}", cols.join(" "));
            }
            Op::Sort(s) => s.finish(out),
            Op::Uniq(u) => u.flush(out),
            Op::Column { out_sep, rows, .. } => {
                let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
                let mut widths = vec![0; ncols];
                for r in rows.iter() {
                    for (i, c) in r.iter().enumerate() {
                        widths[i] = widths[i].max(c.chars().count());
                    }
                }
                // util-linux column -t: every column but the table's last
                // is padded, on short rows too.
                for r in rows.iter() {
                    let mut line = String::new();
                    for (i, w) in widths.iter().enumerate() {
                        let cell = r.get(i).map_or("", String::as_str);
                        if i + 1 < ncols {
                            let _ = write!(line, "{cell:<w$}{out_sep}");
                        } else {
                            line.push_str(cell);
                        }
                    }
                    out.push_str(&line);
                    out.push('\n');
                }
            }
            _ => {}
        }
    }

    /// The filter's exit status was 0.
    fn ok(&self) -> bool {
        match self {
            Op::Grep(g) => g.selected > 0,
            _ => true,
        }
    }
}

// ----- option parsing, as getopt_long does -----

/// A program's options for [`getopt`].
struct Spec {
    prog: &'static str,
    /// Short options without an argument.
    flags: &'static str,
    /// Short options that take one.
    with_arg: &'static str,
    /// Long options: name, the short option it means, whether it takes an
    /// argument.
    long: &'static [(&'static str, char, bool)],
    /// GNU's options the simulation does not have (a message saying so,
    /// not "invalid option").
    unsupported: &'static str,
    /// What the simulation's version supports, for that message.
    supported: &'static str,
    /// The lines GNU prints after an option error.
    usage: &'static str,
}

type Opts = Vec<(char, String)>;

/// GNU getopt_long's reading of `words`: options anywhere (permuted) up to
/// `--`, grouped short options (`-iv`), `-eVALUE`/`-e VALUE`,
/// `--long=VALUE`/`--long VALUE`. Returns the options in order and the
/// operands.
fn getopt(spec: &Spec, words: &[String]) -> Result<(Opts, Vec<String>), String> {
    let mut opts = Vec::new();
    let mut operands = Vec::new();
    let mut i = 0;
    let prog = spec.prog;
    let usage = spec.usage;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if w == "--" {
            operands.extend(words[i..].iter().cloned());
            break;
        }
        if let Some(body) = w.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let Some(&(long, short, takes)) = spec.long.iter().find(|(l, _, _)| *l == name) else {
                return Err(format!("{prog}: unrecognized option '--{name}'\n{usage}"));
            };
            if short == '\0' {
                return Err(format!(
                    "{prog}: option --{long} is not supported by the simulated shell's {prog} (it knows {})",
                    spec.supported
                ));
            }
            let value = match (takes, inline) {
                (true, Some(v)) => v,
                (true, None) => match words.get(i) {
                    Some(v) => {
                        i += 1;
                        v.clone()
                    }
                    None => {
                        return Err(format!(
                            "{prog}: option '--{long}' requires an argument\n{usage}"
                        ))
                    }
                },
                (false, Some(_)) => {
                    return Err(format!(
                        "{prog}: option '--{long}' doesn't allow an argument\n{usage}"
                    ))
                }
                (false, None) => String::new(),
            };
            opts.push((short, value));
            continue;
        }
        if w.len() < 2 || !w.starts_with('-') {
            operands.push(w.clone());
            continue;
        }
        for (pos, c) in w.char_indices().skip(1) {
            if spec.with_arg.contains(c) {
                let rest = &w[pos + c.len_utf8()..];
                let value = if !rest.is_empty() {
                    rest.to_string()
                } else {
                    match words.get(i) {
                        Some(v) => {
                            i += 1;
                            v.clone()
                        }
                        None => {
                            return Err(format!(
                                "{prog}: option requires an argument -- '{c}'\n{usage}"
                            ))
                        }
                    }
                };
                opts.push((c, value));
                break;
            }
            if spec.flags.contains(c) {
                opts.push((c, String::new()));
                continue;
            }
            if spec.unsupported.contains(c) {
                return Err(format!(
                    "{prog}: option -{c} is not supported by the simulated shell's {prog} (it knows {})",
                    spec.supported
                ));
            }
            return Err(format!("{prog}: invalid option -- '{c}'\n{usage}"));
        }
    }
    Ok((opts, operands))
}

/// A filter reads only the pipe: a file operand does not exist (`-` is
/// standard input).
fn no_files(operands: &[String], missing: impl Fn(&str) -> String) -> Result<(), String> {
    match operands.iter().find(|o| *o != "-") {
        Some(f) => Err(missing(f)),
        None => Ok(()),
    }
}

// ----- grep -----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Basic,
    Extended,
    Fixed,
}

#[derive(Clone, Debug)]
struct Grep {
    regex: Regex,
    invert: bool,
    count: bool,
    number: bool,
    only: bool,
    quiet: bool,
    max: Option<u64>,
    line: u64,
    selected: u64,
}

const GREP_USAGE: &str =
    "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.";

fn grep(args: &[String], default: Syntax, prog: &'static str) -> Result<Op, String> {
    let usage = GREP_USAGE;
    let spec = Spec {
        prog,
        flags: "EFGchinoqsvwxy",
        with_arg: "em",
        long: &[
            ("extended-regexp", 'E', false),
            ("fixed-strings", 'F', false),
            ("basic-regexp", 'G', false),
            ("count", 'c', false),
            ("ignore-case", 'i', false),
            ("line-number", 'n', false),
            ("only-matching", 'o', false),
            ("quiet", 'q', false),
            ("silent", 'q', false),
            ("no-messages", 's', false),
            ("invert-match", 'v', false),
            ("word-regexp", 'w', false),
            ("line-regexp", 'x', false),
            ("no-filename", 'h', false),
            ("regexp", 'e', true),
            ("max-count", 'm', true),
            ("color", 'C', false),
            ("colour", 'C', false),
            ("after-context", '\0', true),
            ("before-context", '\0', true),
            ("context", '\0', true),
            ("perl-regexp", '\0', false),
            ("recursive", '\0', false),
            ("files-with-matches", '\0', false),
            ("null-data", '\0', false),
        ],
        unsupported: "ABCDHILPRTUVZabdflrtuz",
        supported: "-i -v -c -n -o -q -w -x -m NUM -E -F -G -e PATTERN",
        usage,
    };
    // `--color=auto` (an alias's) changes nothing here: no colours.
    let words: Vec<String> = args
        .iter()
        .filter(|w| !(w.starts_with("--color=") || w.starts_with("--colour=")))
        .cloned()
        .collect();
    let (opts, mut operands) = getopt(&spec, &words)?;
    let mut syntax = default;
    let mut patterns: Vec<String> = Vec::new();
    let mut given_e = false;
    let (mut icase, mut invert, mut count, mut number) = (false, false, false, false);
    let (mut only, mut quiet, mut word, mut whole) = (false, false, false, false);
    let mut max = None;
    for (c, v) in opts {
        match c {
            'E' => syntax = Syntax::Extended,
            'F' => syntax = Syntax::Fixed,
            'G' => syntax = Syntax::Basic,
            'c' => count = true,
            'i' | 'y' => icase = true,
            'n' => number = true,
            'o' => only = true,
            'q' => quiet = true,
            'v' => invert = true,
            'w' => word = true,
            'x' => whole = true,
            'e' => {
                given_e = true;
                patterns.extend(v.split('\n').map(str::to_string));
            }
            'm' => {
                max = Some(
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("{prog}: invalid max count"))?,
                );
            }
            _ => {}
        }
    }
    if !given_e {
        if operands.is_empty() {
            return Err(usage.to_string());
        }
        let p = operands.remove(0);
        patterns.extend(p.split('\n').map(str::to_string));
    }
    no_files(&operands, |f| {
        format!("{prog}: {f}: No such file or directory")
    })?;
    let mut alternatives = Vec::with_capacity(patterns.len());
    for p in &patterns {
        let t = match syntax {
            Syntax::Fixed => pattern::literal(p),
            Syntax::Basic => pattern::translate(p, false).map_err(|e| format!("{prog}: {e}"))?,
            Syntax::Extended => pattern::translate(p, true).map_err(|e| format!("{prog}: {e}"))?,
        };
        alternatives.push(format!("(?:{t})"));
    }
    let any = alternatives.join("|");
    // GNU grep manual: -x matches the whole line; -w a match that starts
    // and ends at word boundaries (-x wins when both are given).
    let full = if whole {
        format!("^(?:{any})$")
    } else if word {
        format!("\\b{{start-half}}(?:{any})\\b{{end-half}}")
    } else {
        any
    };
    let regex = RegexBuilder::new(&full)
        .case_insensitive(icase)
        .build()
        .map_err(|e| {
            let m = e.to_string();
            if m.contains("limit") {
                format!("{prog}: Regular expression too big")
            } else {
                format!("{prog}: invalid regular expression: {m}")
            }
        })?;
    Ok(Op::Grep(Grep {
        regex,
        invert,
        count,
        number,
        only,
        quiet,
        max,
        line: 0,
        selected: 0,
    }))
}

impl Grep {
    fn feed(&mut self, line: &str, out: &mut String) -> Result<(), String> {
        self.line += 1;
        if self.max.is_some_and(|m| self.selected >= m) {
            return Ok(());
        }
        if self.regex.is_match(line) == self.invert {
            return Ok(());
        }
        self.selected += 1;
        if self.quiet || self.count {
            return Ok(());
        }
        let prefix = if self.number {
            format!("{}:", self.line)
        } else {
            String::new()
        };
        if self.only {
            if !self.invert {
                for m in self
                    .regex
                    .find_iter(line)
                    .filter(|m| !m.as_str().is_empty())
                {
                    let _ = writeln!(out, "{prefix}{}", m.as_str());
                }
            }
        } else {
            let _ = writeln!(out, "{prefix}{line}");
        }
        Ok(())
    }
}

// ----- head, tail -----

/// `-5` as the first argument: GNU's obsolete form of `-n 5`.
fn obsolete_count(args: &[String]) -> Vec<String> {
    match args.split_first() {
        Some((first, rest))
            if first.len() > 1
                && first.starts_with('-')
                && first[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            let mut v = vec!["-n".to_string(), first[1..].to_string()];
            v.extend(rest.iter().cloned());
            v
        }
        _ => args.to_vec(),
    }
}

fn count_arg(prog: &str, text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| format!("{prog}: invalid number of lines: '{text}'"))
}

fn head(args: &[String]) -> Result<Op, String> {
    let spec = Spec {
        prog: "head",
        flags: "qv",
        with_arg: "n",
        long: &[
            ("lines", 'n', true),
            ("quiet", 'q', false),
            ("silent", 'q', false),
            ("verbose", 'v', false),
            ("bytes", '\0', true),
        ],
        unsupported: "cz",
        supported: "-n N, -N, -n -N",
        usage: "Try 'head --help' for more information.",
    };
    let (opts, operands) = getopt(&spec, &obsolete_count(args))?;
    no_files(&operands, |f| {
        format!("head: cannot open '{f}' for reading: No such file or directory")
    })?;
    let mut keep = HeadKeep::First(10);
    for (c, v) in opts {
        if c == 'n' {
            keep = match v.strip_prefix('-') {
                Some(n) => HeadKeep::AllBut(count_arg("head", n)?),
                None => HeadKeep::First(count_arg("head", v.strip_prefix('+').unwrap_or(&v))?),
            };
        }
    }
    Ok(Op::Head {
        keep,
        seen: 0,
        held: VecDeque::new(),
    })
}

fn tail(args: &[String]) -> Result<Op, String> {
    let spec = Spec {
        prog: "tail",
        flags: "qv",
        with_arg: "n",
        long: &[
            ("lines", 'n', true),
            ("quiet", 'q', false),
            ("silent", 'q', false),
            ("verbose", 'v', false),
            ("bytes", '\0', true),
            ("follow", '\0', false),
        ],
        unsupported: "cfFsz",
        supported: "-n N, -N, -n +N",
        usage: "Try 'tail --help' for more information.",
    };
    let (opts, operands) = getopt(&spec, &obsolete_count(args))?;
    no_files(&operands, |f| {
        format!("tail: cannot open '{f}' for reading: No such file or directory")
    })?;
    let mut keep = TailKeep::Last(10);
    for (c, v) in opts {
        if c == 'n' {
            keep = match v.strip_prefix('+') {
                Some(n) => TailKeep::From(
                    n.parse::<u64>()
                        .map_err(|_| format!("tail: invalid number of lines: '{v}'"))?,
                ),
                None => TailKeep::Last(count_arg("tail", v.strip_prefix('-').unwrap_or(&v))?),
            };
        }
    }
    Ok(Op::Tail {
        keep,
        seen: 0,
        held: VecDeque::new(),
    })
}

// ----- wc -----

fn wc(args: &[String]) -> Result<Op, String> {
    let spec = Spec {
        prog: "wc",
        flags: "lwmc",
        with_arg: "",
        long: &[
            ("lines", 'l', false),
            ("words", 'w', false),
            ("chars", 'm', false),
            ("bytes", 'c', false),
            ("max-line-length", '\0', false),
        ],
        unsupported: "L",
        supported: "-l -w -m -c",
        usage: "Try 'wc --help' for more information.",
    };
    let (opts, operands) = getopt(&spec, args)?;
    no_files(&operands, |f| format!("wc: {f}: No such file or directory"))?;
    let mut show = [false; 4];
    for (c, _) in opts {
        match c {
            'l' => show[0] = true,
            'w' => show[1] = true,
            'm' => show[2] = true,
            'c' => show[3] = true,
            _ => {}
        }
    }
    if show == [false; 4] {
        show = [true, true, false, true];
    }
    Ok(Op::Wc {
        show,
        counts: [0; 4],
    })
}

// ----- sort, uniq -----

fn sort_filter(args: &[String]) -> Result<Op, String> {
    let spec = Spec {
        prog: "sort",
        flags: "bfnrsu",
        with_arg: "kt",
        long: &[
            ("ignore-leading-blanks", 'b', false),
            ("ignore-case", 'f', false),
            ("numeric-sort", 'n', false),
            ("reverse", 'r', false),
            ("stable", 's', false),
            ("unique", 'u', false),
            ("key", 'k', true),
            ("field-separator", 't', true),
            ("human-numeric-sort", '\0', false),
            ("version-sort", '\0', false),
            ("general-numeric-sort", '\0', false),
            ("month-sort", '\0', false),
            ("random-sort", '\0', false),
        ],
        unsupported: "cCdghiMmoRSTVz",
        supported: "-b -f -n -r -s -u -k POS1[,POS2] -t SEP",
        usage: "Try 'sort --help' for more information.",
    };
    let (opts, operands) = getopt(&spec, args)?;
    no_files(&operands, |f| {
        format!("sort: cannot read: {f}: No such file or directory")
    })?;
    let mut s = sort::Sort::default();
    for (c, v) in opts {
        match c {
            'b' => s.order.blanks = true,
            'f' => s.order.fold = true,
            'n' => s.order.numeric = true,
            'r' => s.order.reverse = true,
            's' => s.stable = true,
            'u' => s.unique = true,
            'k' => s.keys.push(sort::parse_key(&v)?),
            't' => {
                let mut cs = v.chars();
                s.separator = match (cs.next(), cs.next()) {
                    (Some(c), None) => Some(c),
                    (None, _) => return Err("sort: empty tab".into()),
                    _ => return Err(format!("sort: multi-character tab '{v}'")),
                };
            }
            _ => {}
        }
    }
    Ok(Op::Sort(s))
}

#[derive(Clone, Debug)]
struct Uniq {
    count: bool,
    repeated: bool,
    unique: bool,
    ignore_case: bool,
    current: Option<(String, u64)>,
}

fn uniq(args: &[String]) -> Result<Op, String> {
    let spec = Spec {
        prog: "uniq",
        flags: "cdui",
        with_arg: "",
        long: &[
            ("count", 'c', false),
            ("repeated", 'd', false),
            ("unique", 'u', false),
            ("ignore-case", 'i', false),
            ("skip-fields", '\0', true),
            ("skip-chars", '\0', true),
        ],
        unsupported: "Dfswz",
        supported: "-c -d -u -i",
        usage: "Try 'uniq --help' for more information.",
    };
    let (opts, operands) = getopt(&spec, args)?;
    no_files(&operands, |f| {
        format!("uniq: {f}: No such file or directory")
    })?;
    let mut u = Uniq {
        count: false,
        repeated: false,
        unique: false,
        ignore_case: false,
        current: None,
    };
    for (c, _) in opts {
        match c {
            'c' => u.count = true,
            'd' => u.repeated = true,
            'u' => u.unique = true,
            'i' => u.ignore_case = true,
            _ => {}
        }
    }
    Ok(Op::Uniq(u))
}

impl Uniq {
    fn feed(&mut self, line: &str, out: &mut String) {
        let same = |a: &str, b: &str| {
            if self.ignore_case {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        if let Some((first, n)) = &mut self.current {
            if same(first, line) {
                *n += 1;
                return;
            }
        }
        self.flush(out);
        self.current = Some((line.to_string(), 1));
    }

    /// Prints the group read so far (coreutils uniq.c: `%7d ` before the
    /// line with `-c`).
    fn flush(&mut self, out: &mut String) {
        let Some((line, n)) = self.current.take() else {
            return;
        };
        if (self.repeated && n < 2) || (self.unique && n > 1) {
            return;
        }
        if self.count {
            let _ = write!(out, "{n:>7} ");
        }
        out.push_str(&line);
        out.push('\n');
    }
}

// ----- cut -----

#[derive(Clone, Debug)]
struct Cut {
    /// Fields (`-f`) or characters (`-c`).
    fields: bool,
    /// 1-based inclusive ranges (`None`: to the end).
    ranges: Vec<(usize, Option<usize>)>,
    delimiter: char,
    out_delimiter: Option<String>,
    only_delimited: bool,
}

const CUT_TRY: &str = "Try 'cut --help' for more information.";

fn cut(args: &[String]) -> Result<Op, String> {
    let spec = Spec {
        prog: "cut",
        flags: "s",
        with_arg: "cdf",
        long: &[
            ("characters", 'c', true),
            ("delimiter", 'd', true),
            ("fields", 'f', true),
            ("only-delimited", 's', false),
            ("output-delimiter", 'O', true),
            ("bytes", '\0', true),
            ("complement", '\0', false),
        ],
        unsupported: "bnz",
        supported: "-f LIST [-d SEP] [-s] [--output-delimiter S], -c LIST",
        usage: CUT_TRY,
    };
    let (opts, operands) = getopt(&spec, args)?;
    let mut list: Option<(bool, String)> = None;
    let mut delimiter = None;
    let mut out_delimiter = None;
    let mut only_delimited = false;
    for (c, v) in opts {
        match c {
            'f' | 'c' => {
                if list.is_some() {
                    return Err(format!("cut: only one list may be specified\n{CUT_TRY}"));
                }
                list = Some((c == 'f', v));
            }
            'd' => delimiter = Some(v),
            'O' => out_delimiter = Some(v),
            's' => only_delimited = true,
            _ => {}
        }
    }
    let Some((fields, list)) = list else {
        return Err(format!(
            "cut: you must specify a list of bytes, characters, or fields\n{CUT_TRY}"
        ));
    };
    if !fields && delimiter.is_some() {
        return Err(format!(
            "cut: an input delimiter may be specified only when operating on fields\n{CUT_TRY}"
        ));
    }
    if !fields && only_delimited {
        return Err(format!(
            "cut: suppressing non-delimited lines makes sense\n\tonly when operating on fields\n{CUT_TRY}"
        ));
    }
    let delimiter = match delimiter {
        None => '\t',
        Some(d) => {
            let mut cs = d.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(format!(
                        "cut: the delimiter must be a single character\n{CUT_TRY}"
                    ))
                }
            }
        }
    };
    let ranges = cut_list(&list, fields)?;
    no_files(&operands, |f| {
        format!("cut: {f}: No such file or directory")
    })?;
    Ok(Op::Cut(Cut {
        fields,
        ranges,
        delimiter,
        out_delimiter,
        only_delimited,
    }))
}

/// A cut LIST (`1,3-5,7-`, `-2`), or cut's message.
fn cut_list(list: &str, fields: bool) -> Result<Vec<(usize, Option<usize>)>, String> {
    let (from_one, invalid) = if fields {
        ("fields are numbered from 1", "invalid field value")
    } else {
        (
            "byte/character positions are numbered from 1",
            "invalid byte/character position",
        )
    };
    let number = |s: &str| -> Result<usize, String> {
        let n: usize = s
            .parse()
            .map_err(|_| format!("cut: {invalid} '{s}'\n{CUT_TRY}"))?;
        if n == 0 {
            return Err(format!("cut: {from_one}\n{CUT_TRY}"));
        }
        Ok(n)
    };
    let mut ranges = Vec::new();
    for part in list.split([',', ' ']) {
        let r = match part.split_once('-') {
            None => {
                let n = number(part)?;
                (n, Some(n))
            }
            Some(("", "")) => {
                return Err(format!("cut: invalid range with no endpoint: -\n{CUT_TRY}"))
            }
            Some(("", hi)) => (1, Some(number(hi)?)),
            Some((lo, "")) => (number(lo)?, None),
            Some((lo, hi)) => {
                let (lo, hi) = (number(lo)?, number(hi)?);
                if hi < lo {
                    return Err(format!("cut: invalid decreasing range\n{CUT_TRY}"));
                }
                (lo, Some(hi))
            }
        };
        ranges.push(r);
    }
    Ok(ranges)
}

impl Cut {
    fn selected(&self, i: usize) -> bool {
        self.ranges
            .iter()
            .any(|(lo, hi)| i >= *lo && hi.is_none_or(|h| i <= h))
    }

    fn feed(&mut self, line: &str, out: &mut String) {
        if self.fields {
            if !line.contains(self.delimiter) {
                if !self.only_delimited {
                    out.push_str(line);
                    out.push('\n');
                }
                return;
            }
            let sep = self
                .out_delimiter
                .clone()
                .unwrap_or_else(|| self.delimiter.to_string());
            let picked: Vec<&str> = line
                .split(self.delimiter)
                .enumerate()
                .filter(|(i, _)| self.selected(i + 1))
                .map(|(_, f)| f)
                .collect();
            out.push_str(&picked.join(&sep));
        } else {
            let picked: String = line
                .chars()
                .enumerate()
                .filter(|(i, _)| self.selected(i + 1))
                .map(|(_, c)| c)
                .collect();
            out.push_str(&picked);
        }
        out.push('\n');
    }
}

// ----- tr -----

#[derive(Clone, Debug)]
struct Tr {
    delete: Vec<char>,
    /// SET1's characters and what each becomes.
    map: Vec<(char, char)>,
    squeeze: Vec<char>,
    /// The last character written (squeezing runs across lines).
    last: Option<char>,
}

const TR_TRY: &str = "Try 'tr --help' for more information.";

fn tr(args: &[String]) -> Result<Op, String> {
    let spec = Spec {
        prog: "tr",
        flags: "ds",
        with_arg: "",
        long: &[
            ("delete", 'd', false),
            ("squeeze-repeats", 's', false),
            ("complement", '\0', false),
            ("truncate-set1", '\0', false),
        ],
        unsupported: "cCt",
        supported: "-d -s SET1 [SET2]",
        usage: TR_TRY,
    };
    let (opts, sets) = getopt(&spec, args)?;
    let delete = opts.iter().any(|(c, _)| *c == 'd');
    let squeeze = opts.iter().any(|(c, _)| *c == 's');
    // coreutils tr.c: how many SETs each mode takes.
    let (min, max) = match (delete, squeeze) {
        (true, false) => (1, 1),
        (true, true) => (2, 2),
        (false, true) => (1, 2),
        (false, false) => (2, 2),
    };
    if sets.is_empty() {
        return Err(format!("tr: missing operand\n{TR_TRY}"));
    }
    if sets.len() < min {
        let why = if delete {
            "Two strings must be given when both deleting and squeezing repeats."
        } else {
            "Two strings must be given when translating."
        };
        return Err(format!(
            "tr: missing operand after '{}'\n{why}\n{TR_TRY}",
            sets[sets.len() - 1]
        ));
    }
    if sets.len() > max {
        let mut m = format!("tr: extra operand '{}'", sets[max]);
        if delete && !squeeze {
            m.push_str("\nOnly one string may be given when deleting without squeezing repeats.");
        }
        return Err(format!("{m}\n{TR_TRY}"));
    }
    let set1 = tr_set(&sets[0])?;
    let set2 = match sets.get(1) {
        Some(s) => tr_set(s)?,
        None => Vec::new(),
    };
    let mut t = Tr {
        delete: Vec::new(),
        map: Vec::new(),
        squeeze: Vec::new(),
        last: None,
    };
    match (delete, squeeze) {
        (true, false) => t.delete = set1,
        (true, true) => {
            t.delete = set1;
            t.squeeze = set2;
        }
        (false, true) if sets.len() == 1 => t.squeeze = set1,
        _ => {
            let Some(&pad) = set2.last() else {
                return Err("tr: when not truncating set1, string2 must be non-empty".into());
            };
            t.map = set1
                .iter()
                .enumerate()
                .map(|(i, c)| (*c, set2.get(i).copied().unwrap_or(pad)))
                .collect();
            if squeeze {
                t.squeeze = set2;
            }
        }
    }
    Ok(Op::Tr(t))
}

/// A tr SET: characters, `a-z` ranges, `\n \t \\` escapes, `[:class:]`.
fn tr_set(s: &str) -> Result<Vec<char>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let one = |chars: &[char], i: &mut usize| -> char {
        let c = chars[*i];
        *i += 1;
        if c != '\\' || *i >= chars.len() {
            return c;
        }
        let e = chars[*i];
        *i += 1;
        match e {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            other => other,
        }
    };
    while i < chars.len() {
        if chars[i] == '[' && chars.get(i + 1) == Some(&':') {
            let rest: String = chars[i + 2..].iter().collect();
            if let Some(end) = rest.find(":]") {
                let name = &rest[..end];
                let class: Vec<char> = match name {
                    "lower" => ('a'..='z').collect(),
                    "upper" => ('A'..='Z').collect(),
                    "digit" => ('0'..='9').collect(),
                    "alpha" => ('A'..='Z').chain('a'..='z').collect(),
                    "alnum" => ('0'..='9').chain('A'..='Z').chain('a'..='z').collect(),
                    "space" => vec![' ', '\t', '\n', '\r', '\x0b', '\x0c'],
                    "blank" => vec![' ', '\t'],
                    "punct" => (0u8..128)
                        .map(char::from)
                        .filter(char::is_ascii_punctuation)
                        .collect(),
                    _ => return Err(format!("tr: invalid character class '{name}'")),
                };
                out.extend(class);
                i += 2 + name.chars().count() + 2;
                continue;
            }
        }
        let lo = one(&chars, &mut i);
        if i + 1 < chars.len() && chars[i] == '-' {
            i += 1;
            let hi = one(&chars, &mut i);
            if hi < lo {
                return Err(format!(
                    "tr: range-endpoints of '{}-{}' are in reverse collating sequence order",
                    lo.escape_default(),
                    hi.escape_default()
                ));
            }
            out.extend(lo..=hi);
        } else {
            out.push(lo);
        }
    }
    Ok(out)
}

impl Tr {
    fn feed(&mut self, line: &str, nl: bool, out: &mut String) {
        let input = line.chars().chain(nl.then_some('\n'));
        for c in input {
            if self.delete.contains(&c) {
                continue;
            }
            let c = self
                .map
                .iter()
                .rev()
                .find(|(from, _)| *from == c)
                .map_or(c, |(_, to)| *to);
            if self.last == Some(c) && self.squeeze.contains(&c) {
                continue;
            }
            self.last = Some(c);
            out.push(c);
        }
    }
}

// ----- column, cat, less -----

fn column(args: &[String]) -> Result<Op, String> {
    let spec = Spec {
        prog: "column",
        flags: "t",
        with_arg: "so",
        long: &[
            ("table", 't', false),
            ("separator", 's', true),
            ("output-separator", 'o', true),
            ("table-columns", '\0', true),
            ("json", '\0', false),
        ],
        unsupported: "cdeEHiJlLnNOrRTWx",
        supported: "-t [-s SEP] [-o SEP]",
        usage: "Try 'column --help' for more information.",
    };
    let (opts, operands) = getopt(&spec, args)?;
    no_files(&operands, |f| {
        format!("column: cannot open {f}: No such file or directory")
    })?;
    let mut table = false;
    let mut separators = None;
    let mut out_sep = "  ".to_string();
    for (c, v) in opts {
        match c {
            't' => table = true,
            's' => separators = Some(v.chars().collect()),
            'o' => out_sep = v,
            _ => {}
        }
    }
    if !table {
        return Err(
            "column: the simulated shell's column only builds tables: use column -t".into(),
        );
    }
    Ok(Op::Column {
        separators,
        out_sep,
        rows: Vec::new(),
    })
}

fn cat(args: &[String]) -> Result<Op, String> {
    let spec = Spec {
        prog: "cat",
        flags: "nu",
        with_arg: "",
        long: &[("number", 'n', false)],
        unsupported: "AbeEstTv",
        supported: "-n",
        usage: "Try 'cat --help' for more information.",
    };
    let (opts, operands) = getopt(&spec, args)?;
    no_files(&operands, |f| {
        format!("cat: {f}: No such file or directory")
    })?;
    Ok(Op::Cat {
        number: opts.iter().any(|(c, _)| *c == 'n'),
        n: 0,
    })
}

/// `less`/`more`: the console already scrolls; their options change
/// nothing here.
fn pager(program: &str, args: &[String]) -> Result<Op, String> {
    match args
        .iter()
        .find(|a| !a.starts_with('-') && !a.starts_with('+'))
    {
        Some(f) => Err(format!("{program}: {f}: No such file or directory")),
        None => Ok(Op::Pager),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(line: &str) -> Result<Filter, String> {
        let words = crate::shell::lex::split_words(line).unwrap();
        Filter::parse(&words)
    }

    /// Runs a pipeline of filters (`grep x | wc -l`) over `input`.
    fn pipe(filters: &str, input: &str) -> Piped {
        let fs: Vec<Filter> = crate::shell::lex::split_pipeline(filters)
            .unwrap()
            .iter()
            .map(|w| Filter::parse(w).unwrap_or_else(|e| panic!("{filters}: {e}")))
            .collect();
        run(&fs, &terminated(input))
    }

    fn out(filters: &str, input: &str) -> String {
        pipe(filters, input).stdout
    }

    const PODS: &str = "\
NAMESPACE     NAME                       READY   STATUS    RESTARTS   AGE
kube-system   coredns-5d78c9869d-4xk2p   1/1     Running   0          10m
kube-system   coredns-5d78c9869d-9zq7w   1/1     Running   0          10m
kube-system   etcd-control-plane-1       1/1     Running   0          11m
default       web-7c5ddbdf54-abcde       0/1     Pending   0          1m";

    #[test]
    fn grep_selects_the_matching_lines() {
        assert_eq!(out("grep coredns", PODS).lines().count(), 2);
        let p = pipe("grep coredns | wc -l", PODS);
        assert_eq!((p.stdout.as_str(), p.ok), ("2\n", true));
    }

    #[test]
    fn grep_with_no_match_prints_nothing_and_fails() {
        let p = pipe("grep nginx", PODS);
        assert_eq!((p.stdout.as_str(), p.ok), ("", false));
        // ... and a stage after it still succeeds, as in bash.
        let p = pipe("grep nginx | wc -l", PODS);
        assert_eq!((p.stdout.as_str(), p.ok), ("0\n", true));
    }

    #[test]
    fn grep_with_basic_regex_treats_plus_as_a_literal() {
        assert_eq!(out("grep 'a+b'", "aab\na+b\n"), "a+b\n");
        assert_eq!(out("grep 'a\\+b'", "aab\na+b\n"), "aab\n");
        assert_eq!(out("grep -E 'a+b'", "aab\na+b\n"), "aab\n");
    }

    #[test]
    fn grep_alternation_needs_a_backslash_in_basic_syntax() {
        assert_eq!(out("grep 'etcd\\|web'", PODS).lines().count(), 2);
        assert_eq!(out("grep 'etcd|web'", PODS), "");
        assert_eq!(out("egrep 'etcd|web'", PODS).lines().count(), 2);
        assert_eq!(out("grep -F 'a|b'", "a|b\nab\n"), "a|b\n");
        assert_eq!(out("fgrep .", "a.b\nab\n"), "a.b\n");
    }

    #[test]
    fn grep_flags_combine_as_gnu_grep_reads_them() {
        assert_eq!(out("grep -iv RUNNING", PODS).lines().count(), 2);
        assert_eq!(out("grep -c Running", PODS), "3\n");
        assert_eq!(out("grep -vc Running", PODS), "2\n");
        assert_eq!(
            out("grep -n Pending", PODS),
            format!("5:{}\n", PODS.lines().nth(4).unwrap())
        );
        assert_eq!(out("grep -w web", "web-1\nwebapp\n"), "web-1\n");
        assert_eq!(out("grep -x -e a -e b", "a\nab\nb\n"), "a\nb\n");
        assert_eq!(
            out("grep -o 'coredns-[a-z0-9]*'", PODS),
            "coredns-5d78c9869d\ncoredns-5d78c9869d\n"
        );
        assert_eq!(out("grep -m1 Running", PODS).lines().count(), 1);
        assert_eq!(
            out("grep Pending -n", PODS)
                .lines()
                .next()
                .unwrap()
                .split(':')
                .next(),
            Some("5")
        );
        assert_eq!(out("grep -- -x", "a-x\nb\n"), "a-x\n");
        let q = pipe("grep -q Running", PODS);
        assert_eq!((q.stdout.as_str(), q.ok), ("", true));
        assert!(
            !pipe("grep -c nginx", PODS).ok,
            "grep -c with a count of 0 fails"
        );
    }

    #[test]
    fn grep_rejects_bad_options_and_expressions_as_grep_does() {
        assert_eq!(
            filter("grep -k x").unwrap_err(),
            "grep: invalid option -- 'k'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."
        );
        assert_eq!(
            filter("grep --frobnicate x").unwrap_err(),
            "grep: unrecognized option '--frobnicate'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."
        );
        assert_eq!(
            filter("grep").unwrap_err(),
            "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."
        );
        assert_eq!(
            filter("grep -e").unwrap_err(),
            "grep: option requires an argument -- 'e'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."
        );
        assert_eq!(
            filter("grep '\\(x'").unwrap_err(),
            "grep: Unmatched ( or \\("
        );
        assert_eq!(
            filter("grep x pods.txt").unwrap_err(),
            "grep: pods.txt: No such file or directory"
        );
        assert!(filter("grep -A 2 x")
            .unwrap_err()
            .contains("not supported by the simulated shell's grep"));
        assert!(filter("grep --color=auto x").is_ok());
    }

    #[test]
    fn a_huge_expression_is_refused_as_too_big_not_built() {
        let e = filter("grep -E '(a{32767}){32767}'").unwrap_err();
        assert_eq!(e, "grep: Regular expression too big");
        let e = filter("grep 'x\\{32768\\}'").unwrap_err();
        assert_eq!(e, "grep: Regular expression too big");
    }

    #[test]
    fn head_and_tail_take_counts_in_every_gnu_form() {
        let ten: String = (1..=12).map(|i| format!("{i}\n")).collect();
        assert_eq!(out("head", &ten).lines().count(), 10);
        assert_eq!(out("head -3", &ten), "1\n2\n3\n");
        assert_eq!(out("head -n 2", &ten), "1\n2\n");
        assert_eq!(out("head -n2", &ten), "1\n2\n");
        assert_eq!(out("head --lines=1", &ten), "1\n");
        assert_eq!(out("head -n -10", &ten), "1\n2\n");
        assert_eq!(out("tail -2", &ten), "11\n12\n");
        assert_eq!(out("tail -n 1", &ten), "12\n");
        assert_eq!(out("tail -n +11", &ten), "11\n12\n");
        assert_eq!(out("tail", &ten).lines().count(), 10);
        assert_eq!(out("tail -n 0", &ten), "");
    }

    #[test]
    fn a_bad_line_count_is_heads_own_error() {
        assert_eq!(
            filter("head -n x").unwrap_err(),
            "head: invalid number of lines: 'x'"
        );
        assert_eq!(
            filter("head -n -x").unwrap_err(),
            "head: invalid number of lines: 'x'"
        );
        assert_eq!(
            filter("tail -n +x").unwrap_err(),
            "tail: invalid number of lines: '+x'"
        );
        assert_eq!(
            filter("head -n").unwrap_err(),
            "head: option requires an argument -- 'n'\nTry 'head --help' for more information."
        );
        assert_eq!(
            filter("head -k").unwrap_err(),
            "head: invalid option -- 'k'\nTry 'head --help' for more information."
        );
    }

    #[test]
    fn wc_prints_gnus_columns_for_standard_input() {
        assert_eq!(
            out("wc", "a b\nc d e f\nlast\n"),
            "      3       7      17\n"
        );
        assert_eq!(out("wc -l", "a\nb\n"), "2\n");
        assert_eq!(out("wc -w", "a b\n"), "2\n");
        assert_eq!(out("wc -c", "a b\n"), "4\n");
        assert_eq!(out("wc -lc", "a b\n"), "      1       4\n");
        assert_eq!(out("wc -l", ""), "0\n");
        assert_eq!(out("wc -m", "é\n"), "2\n");
    }

    #[test]
    fn sort_and_uniq_count_what_repeats() {
        let input = "b\na\nb\nc\nb\n";
        assert_eq!(out("sort", input), "a\nb\nb\nb\nc\n");
        assert_eq!(out("sort -r", input), "c\nb\nb\nb\na\n");
        assert_eq!(out("sort -u", input), "a\nb\nc\n");
        assert_eq!(
            out("sort | uniq -c | sort -rn", input),
            "      3 b\n      1 c\n      1 a\n"
        );
        assert_eq!(out("uniq", "a\na\nb\na\n"), "a\nb\na\n");
        assert_eq!(out("uniq -d", "a\na\nb\n"), "a\n");
        assert_eq!(out("uniq -u", "a\na\nb\n"), "b\n");
        assert_eq!(out("uniq -ci", "a\nA\n"), "      2 a\n");
        assert_eq!(out("sort -k3,3 -t: ", "x:1:b\ny:2:a\n"), "y:2:a\nx:1:b\n");
        assert_eq!(out("sort -nk2", "a 10\nb 9\n"), "b 9\na 10\n");
        assert_eq!(
            filter("sort -t ab").unwrap_err(),
            "sort: multi-character tab 'ab'"
        );
    }

    #[test]
    fn cut_selects_fields_and_characters() {
        assert_eq!(out("cut -d: -f3,1", "a:b:c\n"), "a:c\n");
        assert_eq!(out("cut -d: -f2-", "a:b:c\nxyz\n"), "b:c\nxyz\n");
        assert_eq!(out("cut -s -d: -f-2", "a:b:c\nxyz\n"), "a:b\n");
        assert_eq!(out("cut -f2", "a\tb c\n"), "b c\n");
        assert_eq!(out("cut -c2-", "abc\n"), "bc\n");
        assert_eq!(
            out("cut -d: -f1,2 --output-delimiter=' '", "a:b\n"),
            "a b\n"
        );
        assert_eq!(
            out("cut -d ' ' -f1", PODS).lines().next(),
            Some("NAMESPACE")
        );
        assert_eq!(
            filter("cut -f 0").unwrap_err(),
            "cut: fields are numbered from 1\nTry 'cut --help' for more information."
        );
        assert_eq!(
            filter("cut -d ab -f1").unwrap_err(),
            "cut: the delimiter must be a single character\nTry 'cut --help' for more information."
        );
        assert_eq!(
            filter("cut").unwrap_err(),
            "cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information."
        );
        assert_eq!(
            filter("cut -f 3-1").unwrap_err(),
            "cut: invalid decreasing range\nTry 'cut --help' for more information."
        );
    }

    #[test]
    fn tr_squeezes_translates_and_deletes() {
        assert_eq!(out("tr -s ' '", "a  b   c\n"), "a b c\n");
        assert_eq!(
            out("tr -s ' ' | cut -d ' ' -f2", PODS).lines().nth(1),
            Some("coredns-5d78c9869d-4xk2p")
        );
        assert_eq!(out("tr a-z A-Z", "web-1\n"), "WEB-1\n");
        assert_eq!(out("tr '[:lower:]' '[:upper:]'", "ab\n"), "AB\n");
        assert_eq!(out("tr -d '\\n'", "a\nb\n"), "ab");
        assert_eq!(out("tr -d 0-9", "a1b2\n"), "ab\n");
        assert_eq!(
            filter("tr a").unwrap_err(),
            "tr: missing operand after 'a'\nTwo strings must be given when translating.\nTry 'tr --help' for more information."
        );
        assert_eq!(
            filter("tr").unwrap_err(),
            "tr: missing operand\nTry 'tr --help' for more information."
        );
    }

    #[test]
    fn awk_prints_fields_of_the_rows() {
        assert_eq!(
            out("awk 'NR>1 {print $2, $4}'", PODS).lines().next(),
            Some("coredns-5d78c9869d-4xk2p Running")
        );
        assert_eq!(
            out("awk '{print $1}' | sort -u", PODS),
            "NAMESPACE\ndefault\nkube-system\n"
        );
        assert!(filter("awk 'BEGIN {n=0}'")
            .unwrap_err()
            .contains("runs one rule"));
    }

    #[test]
    fn column_t_aligns_the_cells() {
        assert_eq!(
            out("column -t", "NAME READY\nweb-1 1/1\n"),
            "NAME   READY\nweb-1  1/1\n"
        );
        assert_eq!(
            out("column -t -s,", "a,b\nccc,d,e\n\nf\n"),
            "a    b  \nccc  d  e\nf       \n"
        );
        assert!(filter("column").is_err());
    }

    #[test]
    fn cat_less_and_more_pass_everything_through() {
        assert_eq!(out("cat", "a\nb\n"), "a\nb\n");
        assert_eq!(out("less -S", "a\nb\n"), "a\nb\n");
        assert_eq!(out("more", "a\n"), "a\n");
        assert_eq!(out("cat -n", "a\nb\n"), "     1\ta\n     2\tb\n");
        assert_eq!(
            filter("cat -k").unwrap_err(),
            "cat: invalid option -- 'k'\nTry 'cat --help' for more information."
        );
    }

    #[test]
    fn an_unknown_program_is_bashs_command_not_found_with_a_hint() {
        let e = filter("jq .items").unwrap_err();
        assert!(e.starts_with("bash: jq: command not found\n"), "{e}");
        assert!(e.contains("grep") && e.contains("awk"), "{e}");
        assert!(filter("kubectl apply -f -")
            .unwrap_err()
            .contains("cannot read a pipe"));
    }

    #[test]
    fn kubectls_stderr_lines_are_kept_out_of_the_pipe() {
        assert_eq!(
            split_stderr("No resources found in default namespace."),
            (
                "No resources found in default namespace.".to_string(),
                String::new()
            )
        );
        assert_eq!(
            split_stderr("Warning: deprecated\nnode/a drained"),
            (
                "Warning: deprecated".to_string(),
                "node/a drained".to_string()
            )
        );
        assert_eq!(split_stderr("a\nb"), (String::new(), "a\nb".to_string()));
    }

    #[test]
    fn a_stream_filters_rows_as_they_arrive_and_waits_for_partial_lines() {
        let fs = [
            filter("grep -n web").unwrap(),
            filter("awk '{print $1}'").unwrap(),
        ];
        let mut s = Stream::new(&fs);
        assert_eq!(s.feed("NAME\nweb-1 x\n"), "2:web-1\n");
        assert_eq!(s.feed("db-0 y\nweb-"), "");
        assert_eq!(s.feed("2 z\n"), "4:web-2\n");
    }

    #[test]
    fn filters_that_need_the_whole_input_say_so() {
        for f in [
            "head",
            "tail -3",
            "sort",
            "uniq",
            "wc -l",
            "column -t",
            "grep -c x",
            "grep -q x",
        ] {
            assert!(filter(f).unwrap().needs_whole_input(), "{f}");
        }
        for f in [
            "grep x",
            "awk '{print $1}'",
            "cut -f1",
            "tr -s ' '",
            "cat",
            "less",
            "tail -n +2",
        ] {
            assert!(!filter(f).unwrap().needs_whole_input(), "{f}");
        }
    }

    #[test]
    fn no_input_makes_nothing_panic() {
        for f in FILTERS {
            let args: &[&str] = match *f {
                "grep" | "egrep" | "fgrep" => &["x"],
                "awk" => &["{print $NF}"],
                "cut" => &["-f1"],
                "tr" => &["-s", " "],
                "column" => &["-t"],
                _ => &[],
            };
            let mut words = vec![f.to_string()];
            words.extend(args.iter().map(|a| a.to_string()));
            let filter = Filter::parse(&words).unwrap();
            for input in ["", "\n", "\n\n", " \t ", "é", "a\u{0}b\n"] {
                let _ = run(std::slice::from_ref(&filter), input);
            }
        }
    }
}
