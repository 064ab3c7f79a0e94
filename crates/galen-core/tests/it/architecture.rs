//! The house rules of galen-core, read from its own source: no import cycle between its files, and SQL on each
//! table only in the module that owns it. The source is read as text (no compiler), so the rules are simple:
//! every `crate::…` and `super::…` path is an import of the deepest file it names, and every string literal
//! that mentions `FROM t`, `JOIN t`, `INTO t`, `UPDATE t` or `TABLE t` touches table `t`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every file under src/ with this extension.
fn files(extension: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![src()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == extension) {
                out.push(path);
            }
        }
    }
    out
}

/// Every source file by its module path (`patients/table` for src/patients/table.rs, `patients` for
/// src/patients/mod.rs, `` for lib.rs), with its text up to its unit tests.
fn modules() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for path in files("rs") {
        let rel = path.strip_prefix(src()).expect("under src").with_extension("");
        let rel = rel.to_string_lossy().replace('\\', "/");
        let module = match rel.as_str() {
            "lib" => String::new(),
            r => r.strip_suffix("/mod").unwrap_or(r).to_owned(),
        };
        let text = std::fs::read_to_string(&path).expect("read source");
        // Unit tests and comments (doc links included) are not imports.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let code: Vec<&str> = code.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
        out.insert(module, code.join("\n"));
    }
    out
}

/// The file a path names: the longest prefix of `segments` that is a module.
fn resolve(known: &BTreeMap<String, String>, segments: &[&str]) -> Option<String> {
    (1..=segments.len()).rev().map(|n| segments[..n].join("/")).find(|m| known.contains_key(m))
}

/// Paths in `code` starting with `crate::` or `super::`, expanded through `use` braces, as module segments
/// from the crate root.
fn imports(module: &str, code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let (root, skip) = if rest.starts_with("crate::") {
            (Vec::<String>::new(), 7)
        } else if rest.starts_with("super::") {
            let mut parent: Vec<String> = module.split('/').filter(|s| !s.is_empty()).map(String::from).collect();
            parent.pop();
            (parent, 7)
        } else {
            i += 1;
            continue;
        };
        // Not part of a longer identifier (`my_crate::`).
        if i > 0 && (bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_') {
            i += 1;
            continue;
        }
        i += skip;
        let (paths, end) = parse_tree(&bytes, i);
        for p in paths {
            let mut full = root.clone();
            full.extend(p);
            out.push(full);
        }
        i = end.max(i + 1);
    }
    out
}

/// Parses `a::b::{c, d::e}` from `at`; returns every path and where parsing stopped.
fn parse_tree(chars: &[char], mut at: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    loop {
        let start = at;
        while at < chars.len() && (chars[at].is_alphanumeric() || chars[at] == '_') {
            at += 1;
        }
        let ident: String = chars[start..at].iter().collect();
        if ident.is_empty() {
            if at < chars.len() && chars[at] == '{' {
                let mut all = Vec::new();
                at += 1;
                loop {
                    while at < chars.len() && chars[at].is_whitespace() {
                        at += 1;
                    }
                    if at >= chars.len() || chars[at] == '}' {
                        break;
                    }
                    let (inner, end) = parse_tree(chars, at);
                    for p in inner {
                        let mut full = prefix.clone();
                        full.extend(p);
                        all.push(full);
                    }
                    at = end;
                    while at < chars.len() && chars[at] != ',' && chars[at] != '}' {
                        at += 1;
                    }
                    if at < chars.len() && chars[at] == ',' {
                        at += 1;
                    }
                }
                return (all, at + 1);
            }
            return (vec![prefix], at);
        }
        prefix.push(ident);
        if chars.get(at) == Some(&':') && chars.get(at + 1) == Some(&':') {
            at += 2;
        } else {
            return (vec![prefix], at);
        }
    }
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let known = modules();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, code) in &known {
        let targets = edges.entry(module.clone()).or_default();
        for path in imports(module, code) {
            let segments: Vec<&str> = path.iter().map(String::as_str).collect();
            match resolve(&known, &segments) {
                Some(target) if &target != module => {
                    targets.insert(target);
                }
                None if !segments.is_empty() => {
                    targets.insert(String::new());
                }
                _ => {}
            }
        }
    }
    edges
}

/// A cycle in the graph, if there is one, as the files along it.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|p| p == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, edges, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(node, edges, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_file_of_galen_core_imports_one_that_imports_it_back() {
    let mut edges = graph();
    assert!(edges.len() > 30, "the scan found galen-core's files ({})", edges.len());
    // Name every cycle (up to ten), each cut at its last import so the next shows.
    let mut cycles = Vec::new();
    while let Some(cycle) = find_cycle(&edges).filter(|_| cycles.len() < 10) {
        let (from, to) = (&cycle[cycle.len() - 2], &cycle[cycle.len() - 1]);
        edges.get_mut(from).map(|targets| targets.remove(to));
        let shown: Vec<&str> = cycle.iter().map(|m| if m.is_empty() { "lib" } else { m.as_str() }).collect();
        cycles.push(shown.join(" -> "));
    }
    assert!(cycles.is_empty(), "galen-core has import cycles (src/ paths):\n{}", cycles.join("\n"));
}

/// Every table Galen creates, and the folder of the module that owns it: where its migration lives.
fn table_owners() -> BTreeMap<String, String> {
    let mut owners = BTreeMap::new();
    for path in files("sql") {
        let owner = path.parent().and_then(Path::parent).expect("src/<module>/migrations/NNNN.sql");
        let owner = owner.strip_prefix(src()).expect("under src").to_string_lossy().replace('\\', "/");
        let words = words(&std::fs::read_to_string(&path).expect("read migration"));
        for (i, w) in words.iter().enumerate() {
            let creates = i > 0 && ["create", "virtual"].contains(&words[i - 1].to_lowercase().as_str());
            if w.eq_ignore_ascii_case("table") && creates {
                if let Some(name) = words.get(i + 1) {
                    owners.insert(name.to_lowercase(), owner.clone());
                }
            }
        }
    }
    owners
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).map(String::from).collect()
}

/// The contents of the string literals in `code`.
fn string_literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // A char literal or a lifetime: skip an escaped or plain char literal so its quote is not taken.
            if chars.peek() == Some(&'\\') {
                chars.next();
                chars.next();
            }
            continue;
        }
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => break,
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

/// The module files allowed to run SQL on a table owned by `folder`: its `table.rs`, or, in a folder without one,
/// its own modules (`throttle/mod.rs`, `store/meta.rs`).
fn may_touch(file: &str, folder: &str) -> bool {
    let has_table_rs = src().join(folder).join("table.rs").exists();
    match file.strip_prefix(folder).and_then(|rest| rest.strip_prefix('/')) {
        Some(rest) if has_table_rs => rest == "table",
        Some(_) => true,
        None => file == folder && !has_table_rs,
    }
}

#[test]
fn each_table_is_read_and_written_only_by_the_module_that_owns_it() {
    let owners = table_owners();
    assert!(owners.len() >= 15, "the scan found Galen's tables: {owners:?}");
    // Migration 8's data step is history, frozen with its SQL: it writes the tables as they were then.
    let frozen = ["store/backfill"];
    let mut trespass = Vec::new();
    for (module, code) in modules() {
        if frozen.contains(&module.as_str()) {
            continue;
        }
        for literal in string_literals(&code) {
            let w = words(&literal);
            for (i, word) in w.iter().enumerate() {
                let verb = ["from", "join", "into", "update", "table"].contains(&word.to_lowercase().as_str());
                let Some(owner) = w.get(i + 1).filter(|_| verb).and_then(|t| owners.get(&t.to_lowercase())) else {
                    continue;
                };
                if !may_touch(&module, owner) {
                    trespass.push(format!("{module}.rs touches {} (owned by {owner})", w[i + 1]));
                }
            }
        }
    }
    trespass.sort();
    trespass.dedup();
    assert!(trespass.is_empty(), "SQL outside the owning table module:\n{}", trespass.join("\n"));
}
