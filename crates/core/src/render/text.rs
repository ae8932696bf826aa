//! Text: what a reader sees in a terminal, with colour only when asked for.

use std::fmt::Write;

use crate::answer::{Answer, CiteResult, Hit, PassageView, Source, Verdict};
use crate::render::labels;
use crate::text::clean::text as clean;

/// Terminal styling: plain, or ANSI colours for a TTY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Use ANSI escape codes.
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.paint("1;33", text)
    }
    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
}

/// One hit: the quote, marked words highlighted, then its citation.
pub fn hit(hit: &Hit, style: Style) -> String {
    let mut out = String::new();
    let mut quote = String::new();
    if hit.quote.leading {
        quote.push_str("… ");
    }
    for (piece, marked) in hit.quote.pieces(&hit.passage.text) {
        let piece = clean(piece);
        quote.push_str(&if marked { style.bold(&piece) } else { piece });
    }
    if hit.quote.trailing {
        quote.push_str(" …");
    }
    let _ = writeln!(out, "{}. “{}”", hit.rank, quote);
    let _ = writeln!(
        out,
        "   {}",
        style.dim(&format!("— {}", clean(&hit.citation.line())))
    );
    out
}

/// A whole answer, or the reason there is none.
pub fn answer(answer: &Answer, style: Style) -> String {
    if let Some(miss) = &answer.filters.miss {
        return format!("{}\n", labels::filter_miss(miss));
    }
    if !answer.answered {
        return format!("{}\n", labels::no_answer("`sources`"));
    }
    answer
        .hits
        .iter()
        .map(|h| hit(h, style))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A passage with the paragraphs around it.
pub fn context(view: &PassageView, style: Style) -> String {
    let mut out = String::new();
    if let Some(before) = &view.before {
        let _ = writeln!(out, "{}\n", style.dim(&clean(&before.text)));
    }
    let _ = writeln!(out, "{}\n", clean(&view.passage.text));
    if let Some(after) = &view.after {
        let _ = writeln!(out, "{}\n", style.dim(&clean(&after.text)));
    }
    let _ = writeln!(out, "— {}", clean(&view.citation.line()));
    out
}

/// The list of essays.
pub fn sources(sources: &[Source]) -> String {
    let mut out = String::new();
    for s in sources {
        let mut line = String::new();
        if let Some(author) = &s.author {
            let _ = write!(line, "{author}, ");
        }
        let _ = write!(line, "“{}”", s.title);
        for extra in [&s.publication, &s.date, &s.url].into_iter().flatten() {
            let _ = write!(line, ", {extra}");
        }
        let _ = writeln!(out, "- {}", clean(&line));
    }
    out
}

/// A citation check: verdict, original wording, differences and citation.
pub fn cite(result: &CiteResult, style: Style) -> String {
    let mut out = String::new();
    match (result.verdict, &result.found) {
        (Verdict::NotFound, _) | (_, None) => {
            let (symbol, name) = labels::verdict(Verdict::NotFound);
            let _ = writeln!(out, "{symbol} {name}: {}", labels::not_found(result));
        }
        (verdict, Some(m)) => {
            let (symbol, name) = labels::verdict(verdict);
            let mut head = format!("{symbol} {name}");
            if verdict == Verdict::Close {
                head = format!("{head} {}", labels::similarity(m.similarity));
            }
            if result.elided && verdict == Verdict::Exact {
                head = format!("{head} {}", labels::ELIDED);
            }
            let _ = writeln!(out, "{head}");
            if let Some(a) = &result.attribution {
                let _ = writeln!(out, "  {}", clean(&labels::attribution(a, &m.source.title)));
            }
            if result.quoted.trim() != result.query.trim() {
                let _ = writeln!(out, "  {}: “{}”", labels::CHECKED, clean(&result.quoted));
            }
            let _ = writeln!(out, "  Original: “{}”", clean(&m.original));
            for d in &result.differences {
                let _ = writeln!(
                    out,
                    "  {} → {}",
                    style.paint("9", &format!("“{}”", clean(&d.said))),
                    style.bold(&format!("“{}”", clean(&d.original)))
                );
            }
            let _ = writeln!(
                out,
                "  {}",
                style.dim(&format!("— {}", clean(&m.citation.line())))
            );
        }
    }
    out
}
