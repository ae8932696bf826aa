//! Corpus files are open-ended input: whatever bytes a file holds, parsing
//! either yields a usable essay or a warning, and never panics.

use citebot_core::corpus::parse_essay;
use proptest::prelude::*;

fn front_matter_like() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::option::of("[a-z]{1,8} = \"[^\"\\n]{0,20}\""),
        "\\PC{0,40}",
        proptest::collection::vec("[^\\n]{0,60}", 0..6),
        any::<bool>(),
    )
        .prop_map(|(key, title, lines, close)| {
            let mut text = String::from("+++\n");
            text.push_str(&format!(
                "title = \"{}\"\n",
                title.replace(['"', '\\', '\n'], "")
            ));
            if let Some(key) = key {
                text.push_str(&key);
                text.push('\n');
            }
            if close {
                text.push_str("+++\n");
            }
            text.push_str(&lines.join("\n\n"));
            text.into_bytes()
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), md in any::<bool>()) {
        let name = if md { "x.md" } else { "x.txt" };
        match parse_essay(name, &bytes) {
            Ok(essay) => {
                prop_assert!(!essay.title.trim().is_empty());
                prop_assert!(!essay.paragraphs.is_empty());
                prop_assert!(essay.paragraphs.iter().all(|p| !p.trim().is_empty()));
            }
            Err((line, message)) => {
                prop_assert!(!message.is_empty());
                prop_assert!(line.is_none_or(|l| l >= 1));
            }
        }
    }

    #[test]
    fn front_matter_files_parse_or_warn(bytes in front_matter_like()) {
        match parse_essay("x.md", &bytes) {
            Ok(essay) => {
                prop_assert!(!essay.paragraphs.is_empty());
                prop_assert!(!essay.title.is_empty());
            }
            Err((line, message)) => {
                prop_assert!(!message.is_empty());
                let lines = String::from_utf8_lossy(&bytes).lines().count().max(1);
                prop_assert!(line.is_none_or(|l| l >= 1 && l <= lines + 1), "line {line:?} of {lines}");
            }
        }
    }
}
