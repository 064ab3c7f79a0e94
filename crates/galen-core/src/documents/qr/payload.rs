//! Format 2's payload: the fields a pharmacist or registrar acts on, as a CBOR map (RFC 8949) with small
//! integer keys, in the deterministic encoding of RFC 8949 §4.2.1 (definite lengths, shortest integers, keys in
//! ascending order). The layout is in docs/qr-format.md. Do not change: it is signed (a new layout is a new
//! format, with a new prefix).

use crate::documents::model::{Body, Signed};
use minicbor::{Decoder, Encoder};
use sha2::{Digest, Sha256};

/// The format number written under key 1.
pub const FORMAT: u8 = 2;

/// Keys of the payload map.
mod key {
    pub const FORMAT: u8 = 1;
    pub const DOCUMENT: u8 = 2;
    pub const SHA256: u8 = 3;
    pub const SIGNED_AT: u8 = 4;
    pub const PATIENT: u8 = 5;
    pub const SIGNER: u8 = 6;
    pub const PRESCRIPTION: u8 = 7;
    pub const BIRTH: u8 = 8;
    pub const DEATH: u8 = 9;
    pub const SICK_LEAVE: u8 = 10;
    pub const VOID: u8 = 11;
}

/// The patient as the paper's patient block names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    /// Given names and family name, as printed.
    pub name: String,
    /// `YYYY-MM-DD`, or empty when unknown.
    pub date_of_birth: String,
    /// The medical record number.
    pub mrn: String,
}

/// The doctor as the paper's signature block names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// Their name.
    pub name: String,
    /// Their licence number (may be empty).
    pub licence: String,
}

/// One medicine, with what a pharmacist dispenses by. Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    /// The medicine, with strength and form.
    pub medicament: String,
    /// The dose, a decimal number as text.
    pub dose: String,
    /// Its unit, e.g. `mg`.
    pub dose_unit: String,
    /// How it is taken, e.g. `by mouth`.
    pub route: String,
    /// Its form, e.g. `capsule` (may be empty).
    pub form: String,
    /// Every `frequency` `frequency_unit`, unless `prn`.
    pub frequency: u32,
    /// `hours`, `days` or `weeks`.
    pub frequency_unit: String,
    /// As needed.
    pub prn: bool,
    /// For `duration` `duration_period`.
    pub duration: u32,
    /// `days`, `weeks` or `months`.
    pub duration_period: String,
    /// How many to dispense.
    pub quantity: u32,
    /// How many repeats.
    pub refills: u32,
    /// `YYYY-MM-DD`.
    pub valid_until: String,
    /// Whether a generic may be dispensed.
    pub allow_substitution: bool,
}

impl Line {
    /// The line as a prescription line with no indication or comment (neither is in the QR), for wording it as
    /// the paper does (`pdf::rx_line`).
    pub fn as_rx_line(&self) -> crate::documents::model::RxLine {
        crate::documents::model::RxLine {
            medicament: self.medicament.clone(),
            dose: self.dose.clone(),
            dose_unit: self.dose_unit.clone(),
            route: self.route.clone(),
            form: self.form.clone(),
            quantity: self.quantity,
            frequency: self.frequency,
            frequency_unit: self.frequency_unit.clone(),
            prn: self.prn,
            duration: self.duration,
            duration_period: self.duration_period.clone(),
            refills: self.refills,
            allow_substitution: self.allow_substitution,
            valid_until: self.valid_until.clone(),
            ..Default::default()
        }
    }
}

/// Which of a prescription's lines one QR carries: `first..=last` of `total`, numbered from 1 as printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRange {
    /// The first line's number.
    pub first: u32,
    /// The last line's number.
    pub last: u32,
    /// How many lines the prescription has.
    pub total: u32,
}

impl LineRange {
    /// True when this QR carries every line.
    pub fn is_whole(&self) -> bool {
        self.first == 1 && self.last == self.total
    }
}

/// What each kind of document adds to the patient, the doctor and the date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Details {
    /// A prescription: its date and some or all of its lines.
    Prescription {
        /// `YYYY-MM-DD`.
        issued_on: String,
        /// Which lines.
        range: LineRange,
        /// Those lines, in order.
        lines: Vec<Line>,
    },
    /// A birth certificate: the child is the patient.
    Birth {
        /// The date of birth (the certificate records no time of birth).
        born: String,
        /// The mother's name.
        mother: String,
    },
    /// A death certificate: the deceased is the patient.
    Death {
        /// `YYYY-MM-DDTHH:MM`, local time.
        died_at: String,
        /// The immediate cause of death.
        immediate_cause: String,
        /// `natural`, `suicide`, `homicide`, `undetermined` or `pending_investigation`.
        manner: String,
    },
    /// A sick-leave certificate.
    SickLeave {
        /// The first day unfit for work.
        from: String,
        /// The last day unfit for work.
        to: String,
        /// Only when the patient consented to it being printed.
        diagnosis: Option<String>,
    },
    /// A notice voiding another document.
    Void {
        /// The voided document's UUID.
        voids: String,
    },
}

impl Details {
    /// The document kind as stored: `prescription`, `birth`, `death`, `sick_leave` or `void`.
    pub fn kind(&self) -> &'static str {
        match self {
            Details::Prescription { .. } => "prescription",
            Details::Birth { .. } => "birth",
            Details::Death { .. } => "death",
            Details::SickLeave { .. } => "sick_leave",
            Details::Void { .. } => "void",
        }
    }
}

/// Everything one format-2 QR asserts. Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The document's UUID.
    pub document: String,
    /// SHA-256 of the document's canonical JSON.
    pub sha256: [u8; 32],
    /// When it was signed, RFC 3339 as in the signed JSON.
    pub signed_at: String,
    /// Who it is about.
    pub patient: Patient,
    /// Who signed it.
    pub signer: Signer,
    /// What its kind adds.
    pub details: Details,
}

fn uuid_bytes(s: &str) -> Option<[u8; 16]> {
    uuid::Uuid::parse_str(s).ok().map(|u| *u.as_bytes())
}

impl Payload {
    /// The payload for a signed document, carrying `lines` (1-based, inclusive) of a prescription (ignored for
    /// other kinds). `None` for a document Galen cannot describe (an unknown kind, a document id that is not a
    /// UUID, or lines it does not have).
    pub fn of(signed: &Signed, canonical: &[u8], lines: Option<(u32, u32)>) -> Option<Payload> {
        let details = match signed.body()? {
            Body::Prescription(rx) => {
                let total = u32::try_from(rx.lines.len()).ok()?;
                let (first, last) = lines.unwrap_or((1, total));
                if first < 1 || first > last || last > total {
                    return None;
                }
                let lines = rx.lines[first as usize - 1..last as usize]
                    .iter()
                    .map(|l| Line {
                        medicament: l.medicament.clone(),
                        dose: l.dose.clone(),
                        dose_unit: l.dose_unit.clone(),
                        route: l.route.clone(),
                        form: l.form.clone(),
                        frequency: l.frequency,
                        frequency_unit: l.frequency_unit.clone(),
                        prn: l.prn,
                        duration: l.duration,
                        duration_period: l.duration_period.clone(),
                        quantity: l.quantity,
                        refills: l.refills,
                        valid_until: l.valid_until.clone(),
                        allow_substitution: l.allow_substitution,
                    })
                    .collect();
                Details::Prescription { issued_on: rx.issued_on, range: LineRange { first, last, total }, lines }
            }
            Body::Birth(b) => Details::Birth { born: b.date_of_birth, mother: b.mother_name },
            Body::Death(d) => {
                Details::Death { died_at: d.died_at, immediate_cause: d.immediate_cause, manner: d.manner }
            }
            Body::SickLeave(s) => Details::SickLeave {
                from: s.unfit_from,
                to: s.unfit_to,
                diagnosis: (s.diagnosis_consent && !s.diagnosis.is_empty()).then_some(s.diagnosis),
            },
            Body::Void(v) => {
                uuid_bytes(&v.voids)?;
                Details::Void { voids: v.voids }
            }
        };
        uuid_bytes(&signed.document)?;
        Some(Payload {
            document: signed.document.clone(),
            sha256: Sha256::digest(canonical).into(),
            signed_at: signed.signed_at.clone(),
            patient: Patient {
                name: format!("{} {}", signed.patient.given_names, signed.patient.family_name),
                date_of_birth: signed.patient.date_of_birth.clone(),
                mrn: signed.patient.mrn.clone(),
            },
            signer: Signer { name: signed.signer.name.clone(), licence: signed.signer.licence.clone() },
            details,
        })
    }

    /// The deterministic CBOR encoding. A document id or voided id that is not a UUID encodes as 16 zero bytes
    /// (`of` never builds one).
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        // Writing into a Vec cannot fail.
        let _ = self.write(&mut e);
        e.into_writer()
    }

    fn write(&self, e: &mut Encoder<Vec<u8>>) -> Result<(), minicbor::encode::Error<std::convert::Infallible>> {
        let uuid = |s: &str| uuid_bytes(s).unwrap_or_default();
        e.map(7)?;
        e.u8(key::FORMAT)?.u8(FORMAT)?;
        e.u8(key::DOCUMENT)?.bytes(&uuid(&self.document))?;
        e.u8(key::SHA256)?.bytes(&self.sha256)?;
        e.u8(key::SIGNED_AT)?.str(&self.signed_at)?;
        let p = &self.patient;
        e.u8(key::PATIENT)?.array(3)?.str(&p.name)?.str(&p.date_of_birth)?.str(&p.mrn)?;
        e.u8(key::SIGNER)?.array(2)?.str(&self.signer.name)?.str(&self.signer.licence)?;
        match &self.details {
            Details::Prescription { issued_on, range, lines } => {
                e.u8(key::PRESCRIPTION)?.array(4)?.str(issued_on)?.u32(range.first)?.u32(range.total)?;
                e.array(lines.len() as u64)?;
                for l in lines {
                    e.array(14)?
                        .str(&l.medicament)?
                        .str(&l.dose)?
                        .str(&l.dose_unit)?
                        .str(&l.route)?
                        .str(&l.form)?
                        .u32(l.frequency)?
                        .str(&l.frequency_unit)?
                        .bool(l.prn)?
                        .u32(l.duration)?
                        .str(&l.duration_period)?
                        .u32(l.quantity)?
                        .u32(l.refills)?
                        .str(&l.valid_until)?
                        .bool(l.allow_substitution)?;
                }
            }
            Details::Birth { born, mother } => {
                e.u8(key::BIRTH)?.array(2)?.str(born)?.str(mother)?;
            }
            Details::Death { died_at, immediate_cause, manner } => {
                e.u8(key::DEATH)?.array(3)?.str(died_at)?.str(immediate_cause)?.str(manner)?;
            }
            Details::SickLeave { from, to, diagnosis } => {
                e.u8(key::SICK_LEAVE)?.array(3)?.str(from)?.str(to)?;
                match diagnosis {
                    Some(d) => e.str(d)?,
                    None => e.null()?,
                };
            }
            Details::Void { voids } => {
                e.u8(key::VOID)?.array(1)?.bytes(&uuid(voids))?;
            }
        }
        Ok(())
    }

    /// Reads a payload, refusing anything `encode` would not have written byte for byte (so one payload has one
    /// encoding), and anything of another format.
    pub fn decode(bytes: &[u8]) -> Option<Payload> {
        let payload = read(&mut Decoder::new(bytes)).ok()??;
        (payload.encode() == bytes).then_some(payload)
    }
}

type Read<T> = Result<T, minicbor::decode::Error>;

fn array(d: &mut Decoder<'_>, len: u64) -> Read<bool> {
    Ok(d.array()? == Some(len))
}

fn text(d: &mut Decoder<'_>) -> Read<String> {
    d.str().map(str::to_owned)
}

fn expect(d: &mut Decoder<'_>, k: u8) -> Read<bool> {
    Ok(d.u8()? == k)
}

fn uuid_text(d: &mut Decoder<'_>) -> Read<Option<String>> {
    let bytes = d.bytes()?;
    Ok(<[u8; 16]>::try_from(bytes).ok().map(|b| uuid::Uuid::from_bytes(b).hyphenated().to_string()))
}

/// `Ok(None)` for a well-formed CBOR value that is not a format-2 payload.
fn read(d: &mut Decoder<'_>) -> Read<Option<Payload>> {
    if d.map()? != Some(7) {
        return Ok(None);
    }
    if !expect(d, key::FORMAT)? || d.u8()? != FORMAT || !expect(d, key::DOCUMENT)? {
        return Ok(None);
    }
    let Some(document) = uuid_text(d)? else { return Ok(None) };
    if !expect(d, key::SHA256)? {
        return Ok(None);
    }
    let Ok(sha256) = <[u8; 32]>::try_from(d.bytes()?) else { return Ok(None) };
    if !expect(d, key::SIGNED_AT)? {
        return Ok(None);
    }
    let signed_at = text(d)?;
    if !expect(d, key::PATIENT)? || !array(d, 3)? {
        return Ok(None);
    }
    let patient = Patient { name: text(d)?, date_of_birth: text(d)?, mrn: text(d)? };
    if !expect(d, key::SIGNER)? || !array(d, 2)? {
        return Ok(None);
    }
    let signer = Signer { name: text(d)?, licence: text(d)? };
    let details = match d.u8()? {
        key::PRESCRIPTION => {
            if !array(d, 4)? {
                return Ok(None);
            }
            let issued_on = text(d)?;
            let (first, total) = (d.u32()?, d.u32()?);
            let Some(n) = d.array()? else { return Ok(None) };
            // Each line takes at least 15 bytes, so a count the input cannot hold is refused before allocating.
            if n == 0 || n > (d.input().len() - d.position()) as u64 / 15 {
                return Ok(None);
            }
            let mut lines = Vec::with_capacity(n as usize);
            for _ in 0..n {
                if !array(d, 14)? {
                    return Ok(None);
                }
                lines.push(Line {
                    medicament: text(d)?,
                    dose: text(d)?,
                    dose_unit: text(d)?,
                    route: text(d)?,
                    form: text(d)?,
                    frequency: d.u32()?,
                    frequency_unit: text(d)?,
                    prn: d.bool()?,
                    duration: d.u32()?,
                    duration_period: text(d)?,
                    quantity: d.u32()?,
                    refills: d.u32()?,
                    valid_until: text(d)?,
                    allow_substitution: d.bool()?,
                });
            }
            let last = first.checked_add(n as u32 - 1);
            let Some(last) = last.filter(|&l| first >= 1 && l <= total) else { return Ok(None) };
            Details::Prescription { issued_on, range: LineRange { first, last, total }, lines }
        }
        key::BIRTH if array(d, 2)? => Details::Birth { born: text(d)?, mother: text(d)? },
        key::DEATH if array(d, 3)? => Details::Death { died_at: text(d)?, immediate_cause: text(d)?, manner: text(d)? },
        key::SICK_LEAVE if array(d, 3)? => {
            let (from, to) = (text(d)?, text(d)?);
            let diagnosis = if d.datatype()? == minicbor::data::Type::Null {
                d.null()?;
                None
            } else {
                Some(text(d)?)
            };
            Details::SickLeave { from, to, diagnosis }
        }
        key::VOID if array(d, 1)? => {
            let Some(voids) = uuid_text(d)? else { return Ok(None) };
            Details::Void { voids }
        }
        _ => return Ok(None),
    };
    if d.position() != d.input().len() {
        return Ok(None);
    }
    Ok(Some(Payload { document, sha256, signed_at, patient, signer, details }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(lines: usize) -> Payload {
        let line = Line {
            medicament: "Amoxicillin 500 mg".into(),
            dose: "500".into(),
            dose_unit: "mg".into(),
            route: "by mouth".into(),
            form: "capsule".into(),
            frequency: 8,
            frequency_unit: "hours".into(),
            duration: 7,
            duration_period: "days".into(),
            quantity: 21,
            valid_until: "2026-12-31".into(),
            ..Default::default()
        };
        Payload {
            document: "0190a2b4-0000-7000-8000-000000000001".into(),
            sha256: [7; 32],
            signed_at: "2026-12-01T10:00:00Z".into(),
            patient: Patient { name: "Ana Lima".into(), date_of_birth: "1990-01-01".into(), mrn: "SOL-1".into() },
            signer: Signer { name: "Dr Rui Costa".into(), licence: "CRM-1".into() },
            details: Details::Prescription {
                issued_on: "2026-12-01".into(),
                range: LineRange { first: 1, last: lines as u32, total: lines as u32 },
                lines: vec![line; lines],
            },
        }
    }

    #[test]
    fn a_payload_round_trips_and_nothing_else_decodes() {
        let p = sample(3);
        let bytes = p.encode();
        assert_eq!(Payload::decode(&bytes), Some(p));
        // Every prefix, every single-byte change and trailing bytes are refused or decode to something else, and
        // nothing panics.
        for n in 0..bytes.len() {
            assert_eq!(Payload::decode(&bytes[..n]), None, "cut at {n}");
            for flip in [1u8, 0x80] {
                let mut b = bytes.clone();
                b[n] ^= flip;
                assert!(Payload::decode(&b).is_none_or(|d| d.encode() == b), "byte {n}");
            }
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Payload::decode(&longer), None);
    }

    #[test]
    fn a_line_count_the_input_cannot_hold_is_refused_before_allocating() {
        let mut bytes = sample(1).encode();
        // The lines array header (0x81, one line) becomes a 64-bit count of 2^32 lines.
        let at = bytes.iter().position(|&b| b == 0x81).expect("lines header");
        bytes.splice(at..=at, [0x9b, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(Payload::decode(&bytes), None);
    }
}
