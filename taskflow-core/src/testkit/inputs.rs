//! Strategies for client input that parsers must survive: texts weighted towards the
//! characters that matter to them, and raw bytes. Shared by the property tests of every crate
//! that parses what clients send (the core's tokens and cursors, the HTTP layer's headers,
//! query strings and bodies).

use proptest::prelude::*;

/// Characters that matter to the parsers: separators, quotes, escapes, white space,
/// controls, the base64url alphabet, and anything else.
pub fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(
            "\0\t\n\r \"'%&+,-./:;=?@[\\]_{}~*#!$()<>|^`AZaz09\u{7f}\u{85}\u{a0}\u{2028}\u{feff}\u{fffd}"
                .chars()
                .collect::<Vec<_>>()
        ),
        2 => prop::char::range('0', 'z'),
        1 => any::<char>(),
    ]
}

/// A text of up to `max` characters, weighted towards the tricky ones.
///
/// # Panics
/// Never: the regex it builds is valid for any `max`.
pub fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(tricky_char(), 0..=max).prop_map(|c| c.into_iter().collect()),
        prop::collection::vec(any::<char>(), 0..=max).prop_map(|c| c.into_iter().collect()),
        prop::string::string_regex(&format!("[A-Za-z0-9_-]{{0,{max}}}")).expect("a regex"),
    ]
}

/// Up to `max` arbitrary bytes.
pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}
