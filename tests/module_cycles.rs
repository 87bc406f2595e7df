//! No import circle between the top-level modules of any crate of the workspace: the module
//! graph of each crate (module `a` uses module `b` when its code names `crate::b`, or `super::b`
//! from where `super` is the crate root, or an item the crate root re-exports from `b`) must be
//! acyclic, so the layout reads bottom-up (the core's `domain` under its `ports` under its
//! `service`; taskflow-http's `routes` under `context` under `app` under `endpoints` under
//! `dispatch`).
//!
//! A small parser rather than `cargo-modules` (which builds rust-analyzer, minutes on CI for a
//! check this size): comments, strings and character literals are blanked out, test-only
//! modules (`#[cfg(test)]`, inline or in their own files) are left out since tests may reach
//! anywhere, and paths are read from the code as written. It fails naming each circle.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The source with comments, string literals and character literals replaced by spaces (line
/// breaks kept), so that only code is searched for paths.
fn code_only(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: &[u8]| {
        out.extend(from.iter().map(|&b| if b == b'\n' { b'\n' } else { b' ' }));
    };
    while i < bytes.len() {
        let rest = &bytes[i..];
        let end = if rest.starts_with(b"//") {
            rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = 0;
            loop {
                if j + 1 >= rest.len() {
                    break rest.len();
                }
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break j;
                    }
                } else {
                    j += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(rest) {
            let closing: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let body = 2 + hashes;
            rest[body..]
                .windows(closing.len())
                .position(|w| w == closing.as_slice())
                .map_or(rest.len(), |p| body + p + closing.len())
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(rest.len())
        } else if rest[0] == b'\'' {
            // A character literal ('x', '\n', '\u{7f}'), or a lifetime, which is code.
            if rest.len() > 2 && rest[1] == b'\\' {
                rest[2..]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map_or(1, |p| p + 3)
            } else {
                let len = std::str::from_utf8(&rest[1..])
                    .ok()
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                if rest.get(1 + len) == Some(&b'\'') {
                    len + 2
                } else {
                    out.push(b'\'');
                    i += 1;
                    continue;
                }
            }
        } else {
            out.push(rest[0]);
            i += 1;
            continue;
        };
        blank(&mut out, &rest[..end]);
        i += end;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The number of `#`s of a raw string starting here (`r"`, `r#"`, `br"`), if one does.
fn raw_string_start(rest: &[u8]) -> Option<usize> {
    let rest = rest.strip_prefix(b"b").unwrap_or(rest);
    let rest = rest.strip_prefix(b"r")?;
    let hashes = rest.iter().take_while(|&&b| b == b'#').count();
    (rest.get(hashes) == Some(&b'"')).then_some(hashes)
}

/// `code` without the items marked `#[cfg(test)]` that have a body (`mod tests { ... }`), and
/// the names of the `#[cfg(test)] mod name;` it declares (files to leave out).
fn without_tests(code: &str) -> (String, Vec<String>) {
    let mut out = code.to_owned();
    let mut test_files = Vec::new();
    while let Some(at) = out.find("#[cfg(test)]") {
        let after = at + "#[cfg(test)]".len();
        let rest = &out[after..];
        let brace = rest.find('{');
        let semi = rest.find(';');
        let end = match (brace, semi) {
            (_, Some(s)) if brace.is_none_or(|b| s < b) => {
                if let Some(name) = rest[..s].trim().strip_prefix("mod ") {
                    test_files.push(name.trim().to_owned());
                }
                after + s + 1
            }
            (Some(b), _) => {
                let mut depth = 0;
                let mut end = rest.len();
                for (j, c) in rest[b..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + j + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                after + end
            }
            (None, _) => out.len(),
        };
        out.replace_range(at..end, "");
    }
    (out, test_files)
}

/// The first segment of each path of a `{a, b::c, d::{e, f}}` group starting at `text` (just
/// after its `{`).
fn group_heads(text: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item = String::new();
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                heads.push(std::mem::take(&mut item));
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            item.push(c);
        }
    }
    heads.push(item);
    heads
        .iter()
        .filter_map(|item| {
            let head: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!head.is_empty()).then_some(head)
        })
        .collect()
}

/// The names `code` reaches through `prefix` (`crate::`, or `super::` repeated up to the crate
/// root): `prefix` followed by a name, or by a group of paths.
fn reached(code: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find(prefix) {
        let at = from + found;
        from = at + prefix.len();
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            names.extend(group_heads(group));
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a source file relative to `src` (`["app", "builder"]`; `mod.rs` names
/// its directory; `lib.rs` is the root, empty).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// The module graph of the crate in `root`: its top-level modules and what each uses.
fn graph(root: &Path) -> (BTreeSet<String>, BTreeMap<String, BTreeSet<String>>) {
    let src = root.join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut code = BTreeMap::new();
    let mut test_modules = BTreeSet::new();
    for file in &files {
        let source = fs::read_to_string(file).expect("a source file");
        let (kept, tests) = without_tests(&code_only(&source));
        let path = module_path(&src, file);
        for name in tests {
            let mut test_module = path.clone();
            test_module.push(name);
            test_modules.insert(test_module);
        }
        code.insert(path, kept);
    }
    code.retain(|path, _| !test_modules.iter().any(|test| path.starts_with(test)));
    let modules: BTreeSet<String> = code
        .keys()
        .filter_map(|path| path.first().cloned())
        .collect();
    // Items the crate root re-exports, by the module they come from.
    let mut reexports = BTreeMap::new();
    if let Some(root_code) = code.get(&Vec::new()) {
        for line in root_code.split(';') {
            let Some(used) = line.trim().strip_prefix("pub use ") else {
                continue;
            };
            let Some((module, items)) = used.split_once("::") else {
                continue;
            };
            let items = items.strip_prefix('{').unwrap_or(items);
            for item in group_heads(items) {
                reexports.insert(item, module.trim().to_owned());
            }
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in &code {
        let Some(module) = path.first() else { continue };
        let mut names = reached(text, "crate::");
        names.extend(reached(text, &"super::".repeat(path.len())));
        for name in names {
            let target = reexports.get(&name).cloned().unwrap_or(name);
            if modules.contains(&target) && &target != module {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    (modules, edges)
}

/// The circles of `edges`: its strongly connected components of more than one module.
fn circles(
    modules: &BTreeSet<String>,
    edges: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<Vec<String>> {
    // Two modules are in one circle when each reaches the other.
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(next) = stack.pop() {
            for to in edges.get(&next).into_iter().flatten() {
                if seen.insert(to.clone()) {
                    stack.push(to.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        modules.iter().map(|m| (m, reach(m))).collect();
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for module in modules {
        let circle: Vec<String> = modules
            .iter()
            .filter(|other| reaches[module].contains(*other) && reaches[*other].contains(module))
            .cloned()
            .collect();
        if circle.len() > 1 {
            found.insert(circle);
        }
    }
    found.into_iter().collect()
}

/// The crates of the workspace: every directory with a `Cargo.toml` and a `src/lib.rs`, and
/// the facade itself.
fn crates() -> Vec<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut crates = vec![workspace.to_path_buf()];
    for entry in fs::read_dir(workspace).expect("the workspace").flatten() {
        let path = entry.path();
        if path.join("Cargo.toml").is_file() && path.join("src/lib.rs").is_file() {
            crates.push(path);
        }
    }
    crates
}

#[test]
fn no_crate_has_an_import_circle_between_its_modules() {
    let crates = crates();
    assert!(crates.len() >= 7, "the workspace's crates: {crates:?}");
    let mut failures = Vec::new();
    for root in crates {
        let (modules, edges) = graph(&root);
        for circle in circles(&modules, &edges) {
            let uses: Vec<String> = circle
                .iter()
                .map(|m| format!("{m} -> {:?}", edges.get(m).cloned().unwrap_or_default()))
                .collect();
            failures.push(format!("{}: {}", root.display(), uses.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "import circles:\n{}",
        failures.join("\n")
    );
}

/// The checker finds what it looks for: a circle through `crate::`, a grouped import, a
/// root re-export and `super::` from a top-level module; and not through comments, strings,
/// or test modules.
#[test]
fn the_checker_sees_circles_and_nothing_else() {
    let code = code_only(
        "use crate::{a::X, b};\n// crate::c\nlet s = \"crate::d\"; let c = '\"'; fn f<'a>() {}\n\
         #[cfg(test)]\nmod tests { use crate::e; }\nuse super::f::G;\nuse crate::Item;",
    );
    let (code, tests) = without_tests(&code);
    assert!(tests.is_empty());
    assert_eq!(reached(&code, "crate::"), ["a", "b", "Item"]);
    assert_eq!(reached(&code, "super::"), ["f"]);
    let modules: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    assert!(circles(&modules, &edges).is_empty());
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(circles(&modules, &edges), [vec!["a", "b", "c"]]);
    let (_, files) = without_tests("#[cfg(test)]\nmod tests;\n#[cfg(test)] mod props;");
    assert_eq!(files, ["tests", "props"]);
}
