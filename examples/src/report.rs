//! What the examples print when they fail: one line on standard error.

use std::fmt::Display;
use std::io::Write;

/// Prints `program: error` on standard error as one line, whatever line breaks the
/// error's text holds (a server's message, an XML error document). A closed standard
/// error is ignored rather than a panic.
pub fn report(program: &str, error: impl Display) {
    let _ = writeln!(std::io::stderr(), "{program}: {}", one_line(&error.to_string()));
}

/// `text` with each line break, and the blanks around it, turned into one space.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn line_breaks_become_single_spaces() {
        assert_eq!(one_line("a: b"), "a: b");
        assert_eq!(
            one_line("403: <?xml?>\r\n  <Error>\n\n<Code>X</Code></Error>\n"),
            "403: <?xml?> <Error> <Code>X</Code></Error>"
        );
        assert_eq!(one_line(""), "");
    }
}
