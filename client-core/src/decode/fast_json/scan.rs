//! One pass over a flat JSON object: its members' keys and simple values straight from
//! the bytes, with no allocation. Anything it is not sure of ends the scan, so that the
//! caller can hand the whole text to serde.

/// One member's value, as [`scan_object`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlatValue<'a> {
    /// A string without escapes or control characters: its text, between the quotes.
    Str(&'a str),
    /// A number, checked against JSON's grammar: its text as sent.
    Number(&'a str),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A string with escapes, control characters or bytes that are not UTF-8, an object
    /// or an array: its whole text, quotes or brackets included, for serde to read. Not
    /// checked beyond where it ends: parse it with serde_json, which checks it, and give
    /// up on the fast path if that fails.
    Raw(&'a [u8]),
}

/// Scans the JSON object at the start of `json` (after optional whitespace), giving each
/// member's key and value to `member` in document order. Returns the offset just past the
/// closing `}`, or `None` when the text is not a flat object this scanner is sure of (a
/// key with an escape, a malformed token, an early end) or when `member` returns `false`.
/// What follows the object is the caller's to check.
pub fn scan_object<'a>(
    json: &'a [u8],
    mut member: impl FnMut(&'a str, FlatValue<'a>) -> bool,
) -> Option<usize> {
    scan_members(json, |key, text| {
        let (value, length) = flat_value(text)?;
        member(key, value).then_some(length)
    })
}

/// [`scan_object`], with each member's value left to `member` to read: it is given the
/// key and the text from the value's first byte to the end of `json`, and returns the
/// exact length of the value it read (`None` to decline). The scan goes on from there,
/// so a length that stops inside the value would let the rest of it be read as members:
/// return lengths from this module's readers ([`flat_value`], `take_member_at`,
/// `FastJson::decode_fast`...), which end where the value does. A record reads a nested object or
/// array of its own straight from the text this way, in the same pass, instead of having
/// it delimited first ([`flat_value`] reads any other value as `scan_object` does).
pub fn scan_members<'a>(
    json: &'a [u8],
    mut member: impl FnMut(&'a str, &'a [u8]) -> Option<usize>,
) -> Option<usize> {
    let mut at = skip_whitespace(json, 0);
    if json.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_whitespace(json, at + 1);
    if json.get(at) == Some(&b'}') {
        return Some(at + 1);
    }
    loop {
        if json.get(at) != Some(&b'"') {
            return None;
        }
        let (key, after_key) = plain_string(json, at + 1)?;
        at = skip_whitespace(json, after_key);
        if json.get(at) != Some(&b':') {
            return None;
        }
        at = skip_whitespace(json, at + 1);
        let rest = &json[at..];
        let length = member(key, rest)?;
        if length == 0 || length > rest.len() {
            return None;
        }
        at = skip_whitespace(json, at + length);
        match json.get(at)? {
            b',' => at = skip_whitespace(json, at + 1),
            b'}' => return Some(at + 1),
            _ => return None,
        }
    }
}

/// The value at the start of `json` (no whitespace before it) as [`scan_object`] gives
/// it, and its length; `None` when the scanner is not sure of it.
pub fn flat_value(json: &[u8]) -> Option<(FlatValue<'_>, usize)> {
    value(json, 0)
}

/// Scans the JSON array at the start of `json` (after optional whitespace), giving each
/// element to `element` in order, as [`scan_object`] gives members. Returns the offset
/// just past the closing `]`, or `None` when the scanner is not sure of the text or
/// `element` returns `false`.
pub fn scan_array<'a>(json: &'a [u8], mut element: impl FnMut(FlatValue<'a>) -> bool) -> Option<usize> {
    scan_elements(json, |text| {
        let (value, length) = flat_value(text)?;
        element(value).then_some(length)
    })
}

/// [`scan_array`], with each element left to `element` to read, as [`scan_members`]
/// leaves members: it is given the text from the element's first byte on, and returns
/// the element's exact length (`None` to decline).
pub fn scan_elements<'a>(
    json: &'a [u8],
    mut element: impl FnMut(&'a [u8]) -> Option<usize>,
) -> Option<usize> {
    let mut at = skip_whitespace(json, 0);
    if json.get(at) != Some(&b'[') {
        return None;
    }
    at = skip_whitespace(json, at + 1);
    if json.get(at) == Some(&b']') {
        return Some(at + 1);
    }
    loop {
        let rest = &json[at..];
        let length = element(rest)?;
        if length == 0 || length > rest.len() {
            return None;
        }
        at = skip_whitespace(json, at + length);
        match json.get(at)? {
            b',' => at = skip_whitespace(json, at + 1),
            b']' => return Some(at + 1),
            _ => return None,
        }
    }
}

/// Whether `text` is one number by JSON's grammar, and nothing else.
pub fn is_json_number(text: &[u8]) -> bool {
    matches!(text.first(), Some(b'-' | b'0'..=b'9')) && number_end(text, 0) == Some(text.len())
}

/// Whether `json[from..]` is only JSON whitespace.
pub fn only_whitespace(json: &[u8], from: usize) -> bool {
    skip_whitespace(json, from) == json.len()
}

pub(super) fn skip_whitespace(json: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = json.get(at) {
        at += 1;
    }
    at
}

/// The string whose text starts at `start` (after its opening quote), if it has no
/// escape and no control character; and the offset after its closing quote.
fn plain_string(json: &[u8], start: usize) -> Option<(&str, usize)> {
    let rest = json.get(start..)?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    let text = &rest[..end];
    // Without an early exit, so that it runs on whole words: strings are short.
    let control = text.iter().fold(false, |found, &b| found | (b < 0x20));
    if rest[end] != b'"' || control {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    Some((text, start + end + 1))
}

/// The bytes before the next `"` of `json`, unchecked, and the offset after that quote:
/// for a caller that checks them itself against a strict ASCII form (a timestamp's), so
/// that an escape, a control character or a byte of UTF-8 among them fails that check.
pub fn until_quote(json: &[u8]) -> Option<(&[u8], usize)> {
    let end = memchr::memchr(b'"', json)?;
    Some((&json[..end], end + 1))
}

/// The value at `at` and the offset after it.
fn value(json: &[u8], at: usize) -> Option<(FlatValue<'_>, usize)> {
    match *json.get(at)? {
        b'"' => match plain_string(json, at + 1) {
            Some((text, end)) => Some((FlatValue::Str(text), end)),
            None => {
                let end = string_end(json, at + 1)?;
                Some((FlatValue::Raw(&json[at..end]), end))
            }
        },
        b'-' | b'0'..=b'9' => {
            let end = number_end(json, at)?;
            // The number's bytes are ASCII, checked by `number_end`.
            let text = std::str::from_utf8(&json[at..end]).ok()?;
            Some((FlatValue::Number(text), end))
        }
        b't' => literal(json, at, b"true", FlatValue::Bool(true)),
        b'f' => literal(json, at, b"false", FlatValue::Bool(false)),
        b'n' => literal(json, at, b"null", FlatValue::Null),
        b'{' | b'[' => {
            let end = nested_end(json, at)?;
            Some((FlatValue::Raw(&json[at..end]), end))
        }
        _ => None,
    }
}

fn literal<'a>(
    json: &'a [u8],
    at: usize,
    word: &[u8],
    value: FlatValue<'a>,
) -> Option<(FlatValue<'a>, usize)> {
    let end = at + word.len();
    (json.get(at..end)? == word).then_some((value, end))
}

/// The offset after the closing quote of a string whose text starts at `start`,
/// stepping over escapes.
fn string_end(json: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    loop {
        match *json.get(at)? {
            b'"' => return Some(at + 1),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
}

/// The deepest nesting a member's value may have here. serde_json refuses a document
/// nested deeper than 128 levels; a value parsed apart from its record would escape that
/// count, so anything deep is left to serde, which counts it in place.
const MAX_NESTING: usize = 64;

/// The offset after the object or array at `at`: where its brackets balance, strings
/// stepped over; `None` past [`MAX_NESTING`] levels.
fn nested_end(json: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = at;
    loop {
        match *json.get(at)? {
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return None;
                }
            }
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            b'"' => {
                at = string_end(json, at + 1)?;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
}

/// The offset after the number at `at`, if it follows JSON's grammar:
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn number_end(json: &[u8], at: usize) -> Option<usize> {
    let digits = |from: usize| from + json[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut at = at;
    if json[at] == b'-' {
        at += 1;
    }
    match json.get(at)? {
        b'0' => at += 1,
        b'1'..=b'9' => at = digits(at),
        _ => return None,
    }
    if json.get(at) == Some(&b'.') {
        let end = digits(at + 1);
        if end == at + 1 {
            return None;
        }
        at = end;
    }
    if let Some(b'e' | b'E') = json.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = json.get(at) {
            at += 1;
        }
        let end = digits(at);
        if end == at {
            return None;
        }
        at = end;
    }
    // A number runs into the next token only through a delimiter; `01` or `1x` is not one.
    match json.get(at) {
        None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') => Some(at),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(json: &str) -> Option<(Vec<(String, FlatValue<'_>)>, usize)> {
        let mut out = Vec::new();
        let end = scan_object(json.as_bytes(), |key, value| {
            out.push((key.to_owned(), value));
            true
        })?;
        Some((out, end))
    }

    #[test]
    fn scans_simple_members_in_order() {
        let json =
            r#" { "a" : "x", "b":-1.5e3,"c":true,"d":false,"e":null,"f":{"g":[1,"}"]},"h":"q\"" } tail"#;
        let (found, end) = members(json).unwrap();
        assert_eq!(&json[end..], " tail");
        assert_eq!(
            found,
            [
                ("a".to_owned(), FlatValue::Str("x")),
                ("b".to_owned(), FlatValue::Number("-1.5e3")),
                ("c".to_owned(), FlatValue::Bool(true)),
                ("d".to_owned(), FlatValue::Bool(false)),
                ("e".to_owned(), FlatValue::Null),
                ("f".to_owned(), FlatValue::Raw(br#"{"g":[1,"}"]}"#)),
                ("h".to_owned(), FlatValue::Raw(br#""q\"""#)),
            ]
        );
        assert_eq!(members("{}").unwrap().1, 2);
    }

    #[test]
    fn scans_array_elements_in_order() {
        let json = br#" [ 1, "a" ,{"b":[2]}, null ] tail"#;
        let mut found = Vec::new();
        let end = scan_array(json, |value| {
            found.push(value);
            true
        })
        .unwrap();
        assert_eq!(&json[end..], b" tail");
        assert_eq!(
            found,
            [
                FlatValue::Number("1"),
                FlatValue::Str("a"),
                FlatValue::Raw(br#"{"b":[2]}"#),
                FlatValue::Null
            ]
        );
        assert_eq!(scan_array(b"[]", |_| true), Some(2));
        for json in ["", "{}", "[1,]", "[1", "[1 2]", "[,1]"] {
            assert!(scan_array(json.as_bytes(), |_| true).is_none(), "{json}");
        }
        assert!(scan_array(b"[1]", |_| false).is_none());
    }

    #[test]
    fn gives_up_on_what_it_is_not_sure_of() {
        for json in [
            "",
            "[]",
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":1e}"#,
            r#"{"a":-}"#,
            r#"{"a":1x}"#,
            r#"{"a":tru}"#,
            r#"{"a\u0062":1}"#,
            r#"{"a":1,}"#,
            r#"{"a":1"#,
            r#"{"a" 1}"#,
            r#"{"a":"x""#,
            r#"{"a":{"b":1}"#,
        ] {
            assert!(members(json).is_none(), "{json}");
        }
        // Control characters and bad UTF-8 in a value are serde's to refuse.
        assert_eq!(
            members("{\"a\":\"\t\"}").unwrap().0[0].1,
            FlatValue::Raw(b"\"\t\"")
        );
        // Deep values are serde's, which counts the record's own level too.
        let deep = |levels: usize| format!("{{\"a\":{}{}}}", "[".repeat(levels), "]".repeat(levels));
        assert!(members(&deep(MAX_NESTING)).is_some());
        assert!(members(&deep(MAX_NESTING + 1)).is_none());
        let invalid_utf8 = b"{\"\xff\":1}";
        assert!(scan_object(invalid_utf8, |_, _| true).is_none());
        assert!(scan_object(br#"{"a":1}"#, |_, _| false).is_none());
    }
}
