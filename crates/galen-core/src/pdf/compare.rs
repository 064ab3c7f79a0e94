//! Whether a PDF's pages draw exactly what another's do: the same number of pages, and each page's whole object
//! graph equal — its content streams, fonts (their programs included), images, annotations, boxes, rotation and
//! the attributes it inherits from the page tree — whatever the object numbers, and comparing streams by what
//! they decode to. A printed file is hostile input: every walk is bounded, and anything unexpected is a
//! difference.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use std::collections::HashSet;

/// How the printed pages differ from the signed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difference {
    /// Not as many pages.
    PageCount {
        /// Pages in the printed file.
        printed: usize,
        /// Pages the signed document draws.
        signed: usize,
    },
    /// This page (numbered from 1) draws something else.
    Page(usize),
    /// Every page matches, but the page tree holds something more.
    Tree,
}

/// Attributes a page inherits from its ancestors when it does not set them (ISO 32000-1 §7.7.3.4).
const INHERITED: [&[u8]; 4] = [b"Resources", b"MediaBox", b"CropBox", b"Rotate"];
/// Objects compared at most, and how deep: a Galen page has a few hundred.
const BUDGET: usize = 200_000;
const DEPTH: usize = 64;

/// Compares `printed` (a file from anywhere) with `signed` (drawn again from the signed JSON).
pub fn same_pages(printed: &Document, signed: &Document) -> Result<(), Difference> {
    let (p, s) = (printed.get_pages(), signed.get_pages());
    if p.len() != s.len() {
        return Err(Difference::PageCount { printed: p.len(), signed: s.len() });
    }
    let mut walk = Walk { a: printed, b: signed, seen: HashSet::new(), budget: BUDGET };
    for (n, (pa, pb)) in p.values().zip(s.values()).enumerate() {
        let (Some(da), Some(db)) = (effective(printed, *pa), effective(signed, *pb)) else {
            return Err(Difference::Page(n + 1));
        };
        walk.seen.clear();
        if !walk.dict(&da, &db, &[b"Parent"], 0) {
            return Err(Difference::Page(n + 1));
        }
    }
    // The whole tree, for anything lopdf's page walk passed over.
    let root = |d: &Document| d.catalog().ok().and_then(|c| c.get(b"Pages").ok().cloned());
    walk.seen.clear();
    match (root(printed), root(signed)) {
        (Some(a), Some(b)) if walk.obj(&a, &b, 0) => Ok(()),
        _ => Err(Difference::Tree),
    }
}

/// A page's dictionary with the attributes it inherits filled in from its ancestors.
fn effective(doc: &Document, page: ObjectId) -> Option<Dictionary> {
    let mut dict = doc.get_dictionary(page).ok()?.clone();
    let mut parent = dict.get(b"Parent").ok().and_then(|p| p.as_reference().ok());
    for _ in 0..DEPTH {
        let Some(id) = parent else { return Some(dict) };
        let node = doc.get_dictionary(id).ok()?;
        for key in INHERITED {
            if !dict.has(key) {
                if let Ok(value) = node.get(key) {
                    dict.set(key, value.clone());
                }
            }
        }
        parent = node.get(b"Parent").ok().and_then(|p| p.as_reference().ok());
    }
    None
}

struct Walk<'a> {
    a: &'a Document,
    b: &'a Document,
    /// Pairs of objects already being compared: a cycle (a page and its /Parent) is taken as equal there.
    seen: HashSet<(ObjectId, ObjectId)>,
    budget: usize,
}

/// Follows references (a chain of at most a few) to the object they name.
fn resolve<'d>(doc: &'d Document, mut o: &'d Object) -> Option<(&'d Object, Option<ObjectId>)> {
    let mut id = None;
    for _ in 0..8 {
        match o {
            Object::Reference(r) => {
                id = Some(*r);
                o = doc.get_object(*r).ok()?;
            }
            _ => return Some((o, id)),
        }
    }
    None
}

impl Walk<'_> {
    fn obj(&mut self, x: &Object, y: &Object, depth: usize) -> bool {
        if depth > DEPTH || self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        let (Some((x, xid)), Some((y, yid))) = (resolve(self.a, x), resolve(self.b, y)) else { return false };
        if let (Some(i), Some(j)) = (xid, yid) {
            if !self.seen.insert((i, j)) {
                return true;
            }
        }
        match (x, y) {
            (Object::Null, Object::Null) => true,
            (Object::Boolean(p), Object::Boolean(q)) => p == q,
            (Object::Integer(p), Object::Integer(q)) => p == q,
            (Object::Real(p), Object::Real(q)) => p.to_bits() == q.to_bits(),
            (Object::Name(p), Object::Name(q)) => p == q,
            (Object::String(p, _), Object::String(q, _)) => p == q,
            (Object::Array(p), Object::Array(q)) => {
                p.len() == q.len() && p.iter().zip(q).all(|(p, q)| self.obj(p, q, depth + 1))
            }
            (Object::Dictionary(p), Object::Dictionary(q)) => self.dict(p, q, &[], depth + 1),
            (Object::Stream(p), Object::Stream(q)) => self.stream(p, q, depth + 1),
            _ => false,
        }
    }

    /// Same keys (but `skip`) and equal values.
    fn dict(&mut self, p: &Dictionary, q: &Dictionary, skip: &[&[u8]], depth: usize) -> bool {
        let keys = |d: &Dictionary| -> Vec<Vec<u8>> {
            let mut k: Vec<Vec<u8>> =
                d.iter().map(|(k, _)| k.clone()).filter(|k| !skip.contains(&k.as_slice())).collect();
            k.sort();
            k
        };
        let (kp, kq) = (keys(p), keys(q));
        kp == kq
            && kp.iter().all(|k| match (p.get(k), q.get(k)) {
                (Ok(x), Ok(y)) => self.obj(x, y, depth + 1),
                _ => false,
            })
    }

    /// The same dictionary (but how it is encoded) and the same decoded bytes.
    fn stream(&mut self, p: &Stream, q: &Stream, depth: usize) -> bool {
        const ENCODING: [&[u8]; 3] = [b"Length", b"Filter", b"DecodeParms"];
        if !self.dict(&p.dict, &q.dict, &ENCODING, depth) {
            return false;
        }
        if p.content == q.content && p.dict.get(b"Filter").ok() == q.dict.get(b"Filter").ok() {
            return true;
        }
        // Ours first: the printed one may decode to no more than it does.
        let Ok(ours) = q.get_plain_content() else { return false };
        p.get_plain_content_with_limit(ours.len()).is_ok_and(|theirs| theirs == ours)
    }
}
