//! `galen verify`: a Galen PDF, exported files, or the text of a printed QR, checked offline with only the doctor's
//! public key (no database). Prints who signed what and when, or why it failed.

use anyhow::{bail, Context, Result};
use galen_core::documents::{self, Signed};
use galen_core::pdf;
use std::path::Path;

/// What `galen verify` checks.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A Galen PDF (it carries the signed JSON, the signature and a key), or UUID.json then UUID.json.asc.
    #[arg(required_unless_present = "qr", num_args = 1..=2)]
    pub files: Vec<std::path::PathBuf>,
    /// The text decoded from a printed QR (GALEN2:…, or GALEN1:… from before Galen 0.3), instead of files.
    #[arg(long, conflicts_with = "files")]
    pub qr: Option<String>,
    /// The doctor's public key (armored). A PDF carries one, but only a key you trust says who signed.
    #[arg(long)]
    pub key: Option<std::path::PathBuf>,
}
/// "Good signature: …" naming what was signed, for whom, by whom and when.
fn good(s: &Signed) -> String {
    format!(
        "Good signature: {} {} for {} {} ({}), signed by {} (licence {}) at {}; key {}",
        s.schema,
        s.document,
        s.patient.given_names,
        s.patient.family_name,
        s.patient.mrn,
        s.signer.name,
        s.signer.licence,
        s.signed_at,
        s.signer.fingerprint
    )
}

pub fn run(args: VerifyArgs) -> Result<()> {
    let VerifyArgs { files, qr, key } = args;
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let key_text = key.as_deref().map(|k| read(k).map(|b| String::from_utf8_lossy(&b).into_owned())).transpose()?;
    let need_key = || key_text.clone().context("give the doctor's public key with --key doctor.asc");
    let outcome: Result<String, String> = match (qr.as_deref(), files.as_slice()) {
        (Some(text), _) => {
            let key = need_key()?;
            let report = documents::qr::report(text, &[key.as_str()]);
            report
                .verdict
                .map(|v| {
                    let width = report.fields.iter().map(|f| f.label.chars().count()).max().unwrap_or(0);
                    let mut out =
                        format!("Good signature (Galen QR format {}), key {}. The QR says:", v.format, v.fingerprint);
                    for f in &report.fields {
                        out.push_str(&format!("\n  {:width$}  {}", f.label, f.value));
                    }
                    out.push_str("\nCompare each field with the paper: any difference means the paper was altered.");
                    out
                })
                .map_err(|e| e.to_string())
        }
        (None, [pdf_file]) => pdf::verify_file(&read(pdf_file)?, key_text.as_deref())
            .map(|v| {
                let pages = match v.pages {
                    1 => "Its printed page is exactly what was signed.".to_owned(),
                    n => format!("Its {n} printed pages are exactly what was signed."),
                };
                if v.trusted_key {
                    format!("{}\n{pages}", good(&v.signed))
                } else {
                    format!(
                        "{}\n{pages}\nChecked with the key inside the PDF: the file is intact and signed by key {}. \
                         Compare that fingerprint with the doctor's published key, or pass it with --key, before \
                         trusting who signed.",
                        good(&v.signed),
                        v.fingerprint
                    )
                }
            })
            .map_err(|e| e.to_string()),
        (None, [json, signature]) => {
            let (j, s) = (read(json)?, read(signature)?);
            documents::check_signed(&j, &String::from_utf8_lossy(&s), &need_key()?)
                .map(|s| good(&s))
                .map_err(|p| p.to_string())
        }
        _ => bail!("give a PDF, or UUID.json and UUID.json.asc, or --qr TEXT"),
    };
    match outcome {
        Ok(message) => {
            println!("{message}");
            Ok(())
        }
        Err(why) => bail!("verification FAILED: {why}"),
    }
}
