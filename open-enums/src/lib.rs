//! `open_enum!`: enums of wire strings that stay open, so that a value a server adds later
//! is kept, never a decode error. One macro for every crate of the SDK: `client-core`
//! re-exports it, and `forward-types` uses it without a network stack.

/// Declares a `#[non_exhaustive]` enum of known wire strings plus `Unknown(String)`,
/// (de)serialized as the string, with `as_str`, `From<String>`, `From<&str>`,
/// `Into<String>` and `Display`. The calling crate needs `serde` (with `derive`) as a
/// dependency.
///
/// ```
/// open_enums::open_enum! {
///     /// A door's state.
///     DoorState {
///         /// Open.
///         Open => "OPEN",
///         /// Closed.
///         Closed => "CLOSED",
///     }
/// }
/// let state: DoorState = serde_json::from_str("\"AJAR\"").unwrap();
/// assert_eq!(state, DoorState::Unknown("AJAR".into()));
/// assert_eq!(DoorState::from("OPEN"), DoorState::Open);
/// assert_eq!(serde_json::to_string(&DoorState::Closed).unwrap(), "\"CLOSED\"");
/// ```
#[macro_export]
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know, as sent.
            Unknown(String),
        }

        impl $name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Unknown(text) => text,
                }
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                match text.as_str() {
                    $($wire => $name::$variant,)+
                    _ => $name::Unknown(text),
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                $name::from(text.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                match value {
                    $name::Unknown(text) => text,
                    known => known.as_str().to_owned(),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
