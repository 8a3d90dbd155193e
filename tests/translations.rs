//! Every Chinese text in the UI has an English translation, and the translation file holds
//! nothing the UI no longer says.

use std::collections::BTreeSet;
use std::path::Path;

fn slint_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slint_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            out.push(path);
        }
    }
}

/// The first argument of every `@tr("...")`, unescaped.
fn tr_strings(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("@tr(\"") {
        rest = &rest[i + 5..];
        let mut s = String::new();
        let mut chars = rest.char_indices();
        while let Some((j, c)) = chars.next() {
            match c {
                '\\' => s.push(chars.next().map_or('\\', |(_, c)| c)),
                '"' => {
                    rest = &rest[j + 1..];
                    break;
                }
                c => s.push(c),
            }
        }
        found.push(s);
    }
    found
}

fn po_entries(text: &str) -> Vec<(String, String)> {
    let unquote = |l: &str, key: &str| {
        l.strip_prefix(key).map(|v| v.trim().trim_matches('"').replace("\\\"", "\"").replace("\\\\", "\\"))
    };
    let mut entries = Vec::new();
    let mut id = None;
    for line in text.lines() {
        if let Some(v) = unquote(line, "msgid ") {
            id = Some(v);
        } else if let (Some(v), Some(k)) = (unquote(line, "msgstr "), id.take()) {
            entries.push((k, v));
        }
    }
    entries
}

#[test]
fn every_ui_text_has_an_english_translation_and_none_is_stale() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    slint_files(&root.join("ui"), &mut files);
    let used: BTreeSet<String> = files.iter().flat_map(|f| tr_strings(&std::fs::read_to_string(f).unwrap())).collect();
    assert!(used.len() > 100, "the UI's texts were found ({})", used.len());
    let po = std::fs::read_to_string(root.join("ui/lang/en/LC_MESSAGES/gradbooth.po")).unwrap();
    let entries: Vec<_> = po_entries(&po).into_iter().filter(|(k, _)| !k.is_empty()).collect();
    let translated: BTreeSet<String> = entries.iter().filter(|(_, v)| !v.is_empty()).map(|(k, _)| k.clone()).collect();
    let missing: Vec<_> = used.difference(&translated).collect();
    assert!(missing.is_empty(), "untranslated: {missing:#?}");
    let stale: Vec<_> = entries.iter().map(|(k, _)| k).filter(|k| !used.contains(*k)).collect();
    assert!(stale.is_empty(), "translations of texts the UI no longer has: {stale:#?}");
    for (k, v) in &entries {
        assert_eq!(k.matches("{}").count(), v.matches("{}").count(), "placeholders differ: {k} → {v}");
    }
}
