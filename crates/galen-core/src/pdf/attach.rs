//! Files embedded in a PDF (ISO 32000 §7.11.4, the catalog's `/Names /EmbeddedFiles` tree), so a signed
//! document carries its canonical JSON, the detached signature and the doctor's public key. printpdf has no
//! API for attachments, so they are added with lopdf, which printpdf itself serializes with; any PDF reader
//! lists them (poppler's `pdfdetach -list` does in the tests).

use lopdf::{dictionary, Document, Object, Stream, StringFormat};

/// Largest attachment `extract` will inflate: Galen's are a few kilobytes (a logo up to 256 KiB, in base64).
const MAX_ATTACHMENT: usize = 1024 * 1024;
/// Most attachments `extract` reads: Galen's documents carry four.
const MAX_FILES: usize = 8;

/// A file carried inside a PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Its file name.
    pub name: String,
    /// Its media type.
    pub mime: &'static str,
    /// Its contents.
    pub bytes: Vec<u8>,
}

fn text(s: &str) -> Object {
    Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
}

/// Adds `files` to the PDF in `pdf` and returns the new file.
pub fn embed(pdf: &[u8], files: &[Attachment]) -> Result<Vec<u8>, String> {
    let mut doc = Document::load_mem(pdf).map_err(|e| e.to_string())?;
    embed_into(&mut doc, files)?;
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Adds `files` to a PDF document, replacing any it carried.
pub fn embed_into(doc: &mut Document, files: &[Attachment]) -> Result<(), String> {
    let mut names = Vec::new();
    let mut sorted: Vec<&Attachment> = files.iter().collect();
    // A name tree's keys must be in order.
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for file in sorted {
        let mut stream = Stream::new(
            dictionary! {
                "Type" => "EmbeddedFile",
                "Subtype" => Object::Name(file.mime.as_bytes().to_vec()),
                "Params" => dictionary! { "Size" => file.bytes.len() as i64 },
            },
            file.bytes.clone(),
        );
        // Small text files; compression failure just leaves them stored plain.
        let _ = stream.compress();
        let stream_id = doc.add_object(stream);
        let spec = doc.add_object(dictionary! {
            "Type" => "Filespec",
            "F" => text(&file.name),
            "UF" => text(&file.name),
            "EF" => dictionary! { "F" => stream_id },
            "AFRelationship" => "Source",
        });
        names.push(text(&file.name));
        names.push(Object::Reference(spec));
    }
    let tree = doc.add_object(dictionary! { "Names" => names });
    doc.catalog_mut()
        .map_err(|e| e.to_string())?
        .set("Names", dictionary! { "EmbeddedFiles" => Object::Reference(tree) });
    Ok(())
}

/// The embedded files of a PDF, by name. Fails with a plain reason on anything that is not a readable PDF.
pub fn extract(pdf: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let doc = Document::load_mem(pdf).map_err(|_| "this is not a readable PDF file".to_owned())?;
    extract_from(&doc)
}

/// The embedded files of a parsed PDF, by name.
pub fn extract_from(doc: &Document) -> Result<Vec<(String, Vec<u8>)>, String> {
    let deref = |o: &Object| doc.dereference(o).map(|(_, o)| o.clone()).map_err(|e| e.to_string());
    let none = || "the PDF has no embedded files".to_owned();
    let catalog = doc.catalog().map_err(|e| e.to_string())?;
    let names = catalog.get(b"Names").map_err(|_| none())?;
    let names = deref(names)?;
    let tree = names.as_dict().map_err(|_| none())?.get(b"EmbeddedFiles").map_err(|_| none())?;
    let tree = deref(tree)?;
    let entries = tree.as_dict().map_err(|_| none())?.get(b"Names").map_err(|_| none())?;
    let entries = deref(entries)?;
    let entries = entries.as_array().map_err(|_| none())?;
    if entries.len() > 2 * MAX_FILES {
        return Err("the PDF carries more embedded files than a Galen document".to_owned());
    }
    let mut out = Vec::new();
    for pair in entries.chunks(2) {
        let [name, spec] = pair else { break };
        let name = String::from_utf8_lossy(deref(name)?.as_str().map_err(|e| e.to_string())?).into_owned();
        let spec = deref(spec)?;
        let ef = deref(spec.as_dict().map_err(|e| e.to_string())?.get(b"EF").map_err(|e| e.to_string())?)?;
        let file = deref(ef.as_dict().map_err(|e| e.to_string())?.get(b"F").map_err(|e| e.to_string())?)?;
        let bytes = file
            .as_stream()
            .map_err(|e| e.to_string())?
            .decompressed_content_with_limit(MAX_ATTACHMENT)
            .map_err(|e| format!("the embedded file {name} cannot be read: {e}"))?;
        out.push((name, bytes));
    }
    Ok(out)
}
