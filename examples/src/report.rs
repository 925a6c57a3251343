//! What the examples print when they fail: one line on standard error.

use std::fmt::Display;
use std::io::Write;

/// Prints `program: error` on standard error as one line, whatever line breaks the
/// error's text holds (a server's message, an XML error document). A closed standard
/// error is ignored rather than a panic.
pub fn report(program: &str, error: impl Display) {
    let _ = writeln!(std::io::stderr(), "{program}: {}", one_line(&error.to_string()));
}

/// `text` with each line break, and the blanks around it, turned into one space. Every
/// other control character (a lone `\r`, an escape sequence's ESC, a vertical tab), the
/// Unicode line and paragraph separators and the bidirectional controls become a space too: the text may be a
/// server's, and it must not move the cursor, recolour or overwrite the user's terminal.
pub fn one_line(text: &str) -> String {
    let printable: String = text
        .chars()
        .map(|c| match c {
            '\n' => '\n',
            c if c.is_control() || is_layout_control(c) => ' ',
            c => c,
        })
        .collect();
    printable
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Unicode's line and paragraph separators, and the marks, embeddings, overrides and
/// isolates that reorder how a line is shown (`char::is_control` covers only Cc).
fn is_layout_control(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
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

    #[test]
    fn a_servers_control_characters_never_reach_the_terminal() {
        assert_eq!(
            one_line("denied\rOK: all fine\x1b[2K\x1b[32m done\x0b\u{2028}x\u{85}y"),
            "denied OK: all fine [2K [32m done  x y"
        );
        assert!(one_line("a\x1b]0;title\x07b").chars().all(|c| !c.is_control()));
        // A right-to-left override would show `txt.exe` as `exe.txt`.
        assert_eq!(
            one_line("file \u{202E}txt.exe\u{2066}x\u{200F}"),
            "file  txt.exe x"
        );
    }
}
