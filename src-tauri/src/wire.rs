//! The few wire types several command modules share (a patient in a list, a document's signer). Each domain's
//! own DTOs sit beside its commands in `commands/`. Every field crosses in camelCase.

use serde::Serialize;

/// One line of a search result or a duplicate warning.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PatientSummaryDto {
    pub id: i64,
    pub mrn: String,
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub dob_estimated: bool,
    pub sex: galen_core::patients::Sex,
    pub phones: Vec<String>,
    pub deceased: bool,
}

impl From<galen_core::patients::Summary> for PatientSummaryDto {
    fn from(s: galen_core::patients::Summary) -> Self {
        Self {
            id: s.id,
            mrn: s.mrn,
            given_names: s.given_names,
            family_name: s.family_name,
            date_of_birth: s.date_of_birth,
            dob_estimated: s.dob_estimated,
            sex: s.sex,
            phones: s.phones,
            deceased: s.deceased,
        }
    }
}

/// Who signed a document, as the signed bytes say.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SignerDto {
    pub name: String,
    pub licence: String,
    pub fingerprint: String,
}

impl From<galen_core::documents::SignerSnapshot> for SignerDto {
    fn from(s: galen_core::documents::SignerSnapshot) -> Self {
        Self { name: s.name, licence: s.licence, fingerprint: s.fingerprint }
    }
}

/// An SVG as a `data:` URL, for an `<img>` (the CSP allows `data:` images only).
pub fn svg_data_url(svg: &str) -> String {
    format!("data:image/svg+xml;base64,{}", data_encoding::BASE64.encode(svg.as_bytes()))
}
