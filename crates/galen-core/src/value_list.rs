//! `value_list!`: a fixed list of values a field may hold (units, routes, manners of death, roles…) as a Rust
//! enum spelled on the wire, in storage and in signed bytes exactly as before. Front ends get the enum and its
//! values from here (through `specta` in the desktop bindings), so no screen retypes a list.

/// Declares `enum Name { Variant = "text", … }` with `as_str`, `parse`, `ALL` and `NAMES`.
macro_rules! value_list {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        $vis enum $name {
            $($(#[$vmeta])* #[doc = concat!("`", $text, "`")] #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order forms offer them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every value as spelled on the wire and in storage.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The value as spelled on the wire and in storage.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value spelled `s`, exactly.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

pub(crate) use value_list;
