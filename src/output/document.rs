//! A report as blocks (headings, paragraphs, lists, tables, figures), written out as Markdown
//! (report.md) and as one self-contained HTML page (report.html: styles and plots inlined, no
//! network), so the two always say the same. Inline text may hold `**bold**` and `` `code` ``.

use super::{OutputError, out_err};
use base64::Engine;
use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Block {
    /// The page's title (one per document).
    Title(String),
    Heading(String),
    Para(String),
    List(Vec<String>),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A plot: `<stem>.png` beside the report, with its caption.
    Figure {
        stem: String,
        caption: String,
    },
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Document {
    pub(crate) blocks: Vec<Block>,
}

impl Document {
    pub(crate) fn push(&mut self, b: Block) {
        self.blocks.push(b);
    }

    pub(crate) fn markdown(&self) -> String {
        let mut s = String::new();
        for b in &self.blocks {
            match b {
                Block::Title(t) => s += &format!("# {t}\n\n"),
                Block::Heading(h) => s += &format!("## {h}\n\n"),
                Block::Para(p) => s += &format!("{}\n\n", plain_lines(p)),
                Block::List(items) => {
                    for i in items {
                        s += &format!("- {i}\n");
                    }
                    s += "\n";
                }
                Block::Table { header, rows } => {
                    let cell = |c: &String| c.replace('|', "\\|").replace(['\n', '\r'], " ");
                    s += &format!(
                        "| {} |\n|{}\n",
                        header.iter().map(cell).collect::<Vec<_>>().join(" | "),
                        "---|".repeat(header.len())
                    );
                    for r in rows {
                        s += &format!("| {} |\n", r.iter().map(cell).collect::<Vec<_>>().join(" | "));
                    }
                    s += "\n";
                }
                Block::Figure { stem, caption } => s += &format!("![{caption}]({stem}.png)\n\n"),
            }
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    }

    /// The page as HTML, each figure's PNG read from `dir` and inlined.
    pub(crate) fn html(&self, dir: &Path) -> Result<String, OutputError> {
        let title = self.blocks.iter().find_map(|b| if let Block::Title(t) = b { Some(t.as_str()) } else { None });
        let mut s = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            escape(title.unwrap_or("impsim report"))
        );
        for b in &self.blocks {
            match b {
                Block::Title(t) => s += &format!("<h1>{}</h1>\n", inline(t)),
                Block::Heading(h) => s += &format!("<h2>{}</h2>\n", inline(h)),
                Block::Para(p) => s += &format!("<p>{}</p>\n", inline(p)),
                Block::List(items) => {
                    s += "<ul>\n";
                    for i in items {
                        s += &format!("<li>{}</li>\n", inline(i));
                    }
                    s += "</ul>\n";
                }
                Block::Table { header, rows } => {
                    s += "<table>\n<thead><tr>";
                    for h in header {
                        s += &format!("<th>{}</th>", inline(h));
                    }
                    s += "</tr></thead>\n<tbody>\n";
                    for r in rows {
                        s += "<tr>";
                        for c in r {
                            s += &format!("<td>{}</td>", inline(c));
                        }
                        s += "</tr>\n";
                    }
                    s += "</tbody>\n</table>\n";
                }
                Block::Figure { stem, caption } => {
                    let p = dir.join(format!("{stem}.png"));
                    let png = std::fs::read(&p).map_err(|e| out_err(&p, format!("cannot read the plot: {e}")))?;
                    s += &format!(
                        "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>\n",
                        escape(caption),
                        base64::engine::general_purpose::STANDARD.encode(png),
                        inline(caption)
                    );
                }
            }
        }
        s += "</body>\n</html>\n";
        Ok(s)
    }
}

/// A paragraph's text whose lines cannot turn into Markdown blocks, so report.md says what
/// report.html says: no blank line (a new paragraph) or indentation (a code block), a line that
/// would start a heading, quote, list, fence, table or rule, or underline the one before it,
/// has its first mark escaped, and `<` (raw HTML) is written as an entity outside code spans
/// (inside one it is shown as written: a command pasted from it must run).
fn plain_lines(p: &str) -> String {
    p.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|t| {
            let t = lt_outside_code(t);
            let digits = t.chars().take_while(char::is_ascii_digit).count();
            let after = &t[digits..];
            let ends_item = |rest: &str| rest.is_empty() || rest.starts_with([' ', '\t']);
            if digits > 0 && after.starts_with(['.', ')']) && ends_item(&after[1..]) {
                // "1. " starts a numbered item; "1\. " does not.
                return format!("{}\\{after}", &t[..digits]);
            }
            let first = t.chars().next().unwrap_or(' ');
            let rule = t.chars().all(|c| c == first || c == ' ' || c == '\t');
            let block = matches!(first, '#' | '>' | '|')
                || (matches!(first, '-' | '+' | '*') && ends_item(&t[1..]))
                || (matches!(first, '-' | '*' | '_' | '=') && rule)
                || t.starts_with("```")
                || t.starts_with("~~~");
            if block { format!("\\{t}") } else { t }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `t` with `<` written `&lt;` except inside code spans (between a pair of backticks; an
/// unpaired backtick opens none).
fn lt_outside_code(t: &str) -> String {
    let parts: Vec<&str> = t.split('`').collect();
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            // Odd parts lie between a pair of backticks, unless the last one is unpaired.
            let in_code = i % 2 == 1 && !(i == last && last % 2 == 1);
            if in_code { part.to_string() } else { part.replace('<', "&lt;") }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// Readable on a laptop and in print; no web fonts, nothing fetched.
const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:70rem;\
margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}table{border-collapse:collapse;margin:1rem 0;\
font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f3f3f3}code{background:#f3f3f3;padding:0 .2rem;border-radius:3px}figure{margin:1.5rem 0}\
img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.9rem;color:#555}";

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Escaped text with `**bold**` as <strong> and `` `code` `` as <code> (an unpaired marker
/// stays as it is).
fn inline(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        let code = rest.find('`');
        let bold = rest.find("**");
        let (at, marker, tag) = match (code, bold) {
            (Some(c), Some(b)) if b < c => (b, "**", "strong"),
            (Some(c), _) => (c, "`", "code"),
            (None, Some(b)) => (b, "**", "strong"),
            (None, None) => break,
        };
        let after = &rest[at + marker.len()..];
        match after.find(marker) {
            Some(end) => {
                out += &escape(&rest[..at]);
                let body = &after[..end];
                out += &format!("<{tag}>{}</{tag}>", if tag == "code" { escape(body) } else { inline(body) });
                rest = &after[end + marker.len()..];
            }
            None => {
                out += &escape(&rest[..at + marker.len()]);
                rest = after;
            }
        }
    }
    out + &escape(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_marks_become_tags_and_text_is_escaped() {
        assert_eq!(inline("a **b** `c<d>` e"), "a <strong>b</strong> <code>c&lt;d&gt;</code> e");
        assert_eq!(inline("**`x`** y"), "<strong><code>x</code></strong> y");
        assert_eq!(inline("`**not bold**`"), "<code>**not bold**</code>");
        assert_eq!(inline("2 ** 3 and a ` alone"), "2 ** 3 and a ` alone");
        assert_eq!(inline("<script>&\""), "&lt;script&gt;&amp;&quot;");
        assert_eq!(inline(""), "");
    }

    #[test]
    fn a_paragraphs_lines_never_become_markdown_blocks() {
        let text = "# not a heading\n- not an item\n  > not a quote\n12. not numbered\n**bold** stays\nplain";
        assert_eq!(
            plain_lines(text),
            "\\# not a heading\n\\- not an item\n\\> not a quote\n12\\. not numbered\n**bold** stays\nplain"
        );
        // Underlines, rules, fences, tables, code blocks, blank lines, raw HTML.
        let text = "Title\n===\n***\n---\n```\n~~~\n| a |\n\n    indented\n<img src=x>\n-\t\n1.";
        assert_eq!(
            plain_lines(text),
            "Title\n\\===\n\\***\n\\---\n\\```\n\\~~~\n\\| a |\nindented\n&lt;img src=x>\n\\-\n1\\."
        );
        let d = Document { blocks: vec![Block::Table { header: vec!["a".into()], rows: vec![vec!["x\ny".into()]] }] };
        assert_eq!(d.markdown(), "| a |\n|---|\n| x y |\n");
        // A command in a code span is pasted as written: `<` stays; outside one it is an entity,
        // and an unpaired backtick opens no span.
        assert_eq!(
            plain_lines("Rerun with `impsim tune --budget 'm<=2'` if a<b"),
            "Rerun with `impsim tune --budget 'm<=2'` if a&lt;b"
        );
        assert_eq!(plain_lines("a ` b<c"), "a ` b&lt;c");
        assert_eq!(plain_lines("`x<y` and `z<w` <p>"), "`x<y` and `z<w` &lt;p>");
    }

    #[test]
    fn markdown_and_html_say_the_same() {
        let dir = std::env::temp_dir().join(format!("impsim-doc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("plot.png"), [137u8, 80, 78, 71]).unwrap();
        let d = Document {
            blocks: vec![
                Block::Title("t".into()),
                Block::Para("**Answer.** x".into()),
                Block::List(vec!["one".into(), "two".into()]),
                Block::Table { header: vec!["a".into(), "b|c".into()], rows: vec![vec!["1".into(), "2".into()]] },
                Block::Figure { stem: "plot".into(), caption: "A plot".into() },
            ],
        };
        assert_eq!(
            d.markdown(),
            "# t\n\n**Answer.** x\n\n- one\n- two\n\n| a | b\\|c |\n|---|---|\n| 1 | 2 |\n\n![A plot](plot.png)\n"
        );
        let h = d.html(&dir).unwrap();
        assert!(h.contains("<title>t</title>"));
        assert!(h.contains("<p><strong>Answer.</strong> x</p>"));
        assert!(h.contains("<li>two</li>"));
        assert!(h.contains("<th>b|c</th>"));
        // The PNG's bytes, inlined: the page needs no other file.
        assert!(h.contains("src=\"data:image/png;base64,iVBORw==\""), "{h}");
        assert!(!h.contains("http"));
        // A plot that is missing is an error naming it, not a broken page.
        std::fs::remove_file(dir.join("plot.png")).unwrap();
        let e = d.html(&dir).unwrap_err().to_string();
        assert!(e.contains("plot.png"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
