//! What a clinic does with patient records other sites send (security review, items 3 and 4), through the real
//! partner over mTLS: a received record is validated like a local registration and a bad one is skipped without
//! stalling sync; a received MRN never moves this clinic's sequence; a remote update never turns consent back on,
//! and one that removes an allergy or a condition waits for a clinician.

use crate::support::*;
use galen_core::patients::shared::{Removed, SharedPatient};
use galen_core::patients::{self, Allergy, Clinical, Demographics, NewPatient};
use galen_core::sync::{self, Resolution};
use galen_core::{audit, mrn, settings};
use galen_partner::store;
use galen_proto::envelope::{self, Kind, Meta, OwnKey, PeerKey, Plaintext};
use galen_proto::wire::PushStatus;

/// Clínica Sol and Clínica Mar, and a third site ("Lab") that sends whatever a test makes it send.
pub(crate) struct Network {
    _partner: PartnerDir,
    serving: Serving,
    pub sol: ClinicDir,
    pub mar: ClinicDir,
    lab: OwnKey,
    /// The lab's site key, armored with its secret parts (for gpg).
    pub lab_secret: String,
    partner_key: PeerKey,
}

pub(crate) fn network() -> Network {
    let partner = new_partner();
    let (sol, mar) = (new_clinic("Clínica Sol"), new_clinic("Clínica Mar"));
    partner.pair(&sol.clinic, &sol.admin);
    partner.pair(&mar.clinic, &mar.admin);
    let issued =
        galen_proto::certs::issue("Lab CA", "Lab", galen_proto::certs::Leaf::Client, time::OffsetDateTime::now_utc())
            .expect("issue");
    let lab_secret = OwnKey::generate("Lab").expect("key");
    let lab = OwnKey::from_armored(&lab_secret).expect("read");
    let lab_file = galen_proto::pairing::PairingFile::new("Lab", &issued.ca_cert, &lab.public_armored()).expect("file");
    let conn = partner.open();
    store::pair(&conn, &lab_file, &lab_file.safety_number).expect("pair the lab");
    let partner_key =
        PeerKey::from_armored(&store::pairing_file(&conn).expect("file").openpgp_public_key).expect("key");
    drop(conn);
    let serving = partner.serve(true);
    let url = format!("https://127.0.0.1:{}", serving.addr.port());
    sol.pair_with(&partner, &url);
    mar.pair_with(&partner, &url);
    Network { _partner: partner, serving, sol, mar, lab, lab_secret, partner_key }
}

impl Network {
    /// The lab sends `patient` as version `version` of its record.
    fn lab_sends(&self, patient: &SharedPatient, version: u32) {
        self.lab_sends_record(Kind::Patient, &patient.uuid, version, serde_json::to_value(patient).expect("json"));
    }

    /// The lab sends `payload` as version `version` of its record `id` of this kind.
    pub fn lab_sends_record(&self, kind: Kind, id: &str, version: u32, payload: serde_json::Value) {
        let plain = Plaintext {
            meta: Meta {
                format: envelope::FORMAT.into(),
                id: id.to_owned(),
                version,
                created_at: galen_proto::rfc3339(time::OffsetDateTime::now_utc()),
                nonce: envelope::new_nonce(),
                sender: self.lab.fingerprint(),
                recipient: self.partner_key.fingerprint(),
                origin: self.lab.fingerprint(),
                kind,
            },
            payload,
        };
        let sealed = envelope::seal(&self.lab, &self.partner_key, &plain).expect("seal");
        let site = &self.serving.partner.sites().iter().find(|s| s.name == "Lab").cloned().expect("the lab");
        let status =
            &self.serving.partner.receive(site, &[galen_proto::wire::encode_envelope(&sealed)]).expect("push")[0];
        assert_eq!(status.status, PushStatus::Stored, "{status:?}");
    }
}

/// A patient record as a site sends it, valid unless a test spoils it.
pub(crate) fn record(given: &str, family: &str) -> SharedPatient {
    SharedPatient {
        uuid: uuid::Uuid::now_v7().to_string(),
        mrn: mrn::format("LAB", 42),
        given_names: given.into(),
        family_name: family.into(),
        sex: "female".into(),
        date_of_birth: "1975-06-01".into(),
        dob_estimated: false,
        national_id: String::new(),
        phones: vec!["+351 21 000 0000".into()],
        email: String::new(),
        address: String::new(),
        emergency_contact: Default::default(),
        blood_type: String::new(),
        allergies: Vec::new(),
        conditions: Vec::new(),
        pregnancy_status: "unknown".into(),
        pregnancy_as_of: String::new(),
        notes: String::new(),
        deceased: false,
    }
}

fn find(c: &ClinicDir, uuid: &str) -> Option<patients::Patient> {
    let count = patients::count(c.clinic.store()).ok()?;
    (1..=count + 5).filter_map(|id| patients::get(&c.clinic, &c.doctor, id).ok()).find(|p| p.uuid == uuid)
}

fn register_local(c: &ClinicDir, given: &str, national_id: &str) -> patients::Patient {
    let p = NewPatient {
        demographics: Demographics {
            given_names: given.into(),
            family_name: "Local".into(),
            date_of_birth: "1990-01-01".into(),
            national_id: national_id.into(),
            ..Default::default()
        },
        clinical: None,
    };
    patients::register(&c.clinic, &c.doctor, &p, true).expect("register here")
}

#[test]
fn a_received_patient_is_validated_like_a_local_one_and_a_bad_one_never_stalls_sync() {
    let net = network();
    let robot = SharedPatient { sex: "robot".into(), ..record("Rob", "Ot") };
    let unborn = SharedPatient { date_of_birth: "2999-01-01".into(), ..record("Not", "Yet") };
    let no_name = SharedPatient { given_names: "   ".into(), ..record("", "Nobody") };
    let good = record("Gina", "Good");
    for p in [&robot, &unborn, &no_name, &good] {
        net.lab_sends(p, 1);
    }
    let report = net.mar.sync();
    assert_eq!((report.pulled, report.rejected_here), (1, 3), "three refused, the good one applied: {report:?}");
    assert!(net.mar.status().last_error.is_none(), "the sync itself succeeded");
    assert!(find(&net.mar, &good.uuid).is_some(), "what came after the bad ones arrived");
    for bad in [&robot, &unborn, &no_name] {
        assert!(find(&net.mar, &bad.uuid).is_none(), "{} was refused", bad.family_name);
    }
    let log =
        audit::list(&net.mar.clinic, &net.mar.admin, &audit::Query { limit: 50, ..Default::default() }).expect("log");
    let reasons: Vec<&str> = log.iter().filter(|e| e.action == "sync.rejected").map(|e| e.entity_id.as_str()).collect();
    assert!(reasons.iter().any(|r| r.contains("sex: Not one of")), "logged with the field at fault: {reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("date_of_birth")), "{reasons:?}");
    assert_eq!(net.mar.sync().rejected_here, 0, "each is refused once, not pulled again");
}

#[test]
fn a_received_update_that_takes_a_national_id_held_here_is_a_conflict_and_sync_goes_on() {
    let net = network();
    let p1 = record("Paula", "Um");
    net.lab_sends(&p1, 1);
    net.mar.sync();
    register_local(&net.mar, "Quim", "AB123456");
    net.lab_sends(&SharedPatient { national_id: "AB123456".into(), ..p1.clone() }, 2);
    let after = record("Alice", "After");
    net.lab_sends(&after, 1);
    let report = net.mar.sync();
    assert!(net.mar.status().last_error.is_none(), "{:?}", net.mar.status().last_error);
    assert_eq!((report.pulled, report.new_conflicts), (1, 1), "{report:?}");
    assert!(find(&net.mar, &after.uuid).is_some(), "the next record arrived");
    assert_eq!(find(&net.mar, &p1.uuid).expect("p1").demographics.national_id, "", "the clash was not applied");
    assert_eq!(galen_core::sync::conflicts(&net.mar.clinic, &net.mar.admin).expect("conflicts").len(), 1);
}

#[test]
fn a_received_mrn_never_moves_this_clinics_sequence_and_look_alike_mrns_are_one() {
    let net = network();
    let prefix = settings::load(net.mar.clinic.store()).expect("settings").mrn_prefix;
    let far = SharedPatient { mrn: mrn::format(&prefix, 9_999_999), ..record("Fara", "Way") };
    let first = SharedPatient { mrn: mrn::format("LAB", 42), ..record("Ana", "A") };
    // "LAB-0000042K" written another way: lower case, spaces.
    let look_alike =
        SharedPatient { mrn: format!("lab - {}", mrn::format("LAB", 42)[4..].to_lowercase()), ..record("Bia", "B") };
    for p in [&far, &first, &look_alike] {
        net.lab_sends(p, 1);
    }
    net.mar.sync();
    let local = register_local(&net.mar, "Next", "");
    let issued: u64 = local.mrn[prefix.len() + 1..local.mrn.len() - 1].parse().expect("a sequence number");
    assert!(issued < 10, "this clinic's next MRN follows its own registrations: {}", local.mrn);
    let (a, b) = (find(&net.mar, &first.uuid).expect("a"), find(&net.mar, &look_alike.uuid).expect("b"));
    assert_eq!(a.mrn, mrn::format("LAB", 42), "kept as sent, canonical");
    assert_ne!(
        mrn::normalize(&b.mrn),
        mrn::normalize(&a.mrn),
        "a look-alike of a taken MRN is not a second copy of it"
    );
    assert_eq!(mrn::parse(&b.mrn).as_deref(), Ok(b.mrn.as_str()), "every stored MRN is canonical: {}", b.mrn);
}

#[test]
fn a_remote_update_never_turns_consent_back_on() {
    let net = network();
    let shared = net.sol.register("Carla", "Consent", true);
    net.sol.sync();
    net.mar.sync();
    let here = find(&net.mar, &shared.uuid).expect("arrived");
    assert!(here.demographics.consent_share);
    // The patient withdraws consent at Mar; Sol then edits the record.
    let withdrawn = Demographics { consent_share: false, ..here.demographics.clone() };
    patients::update(
        &net.mar.clinic,
        &net.mar.doctor,
        here.id,
        &NewPatient { demographics: withdrawn, clinical: None },
    )
    .expect("withdraw here");
    let edited = Demographics { email: "carla@example.org".into(), ..shared.demographics.clone() };
    patients::update(&net.sol.clinic, &net.sol.doctor, shared.id, &NewPatient { demographics: edited, clinical: None })
        .expect("edit at Sol");
    net.sol.sync();
    net.mar.sync();
    let after = find(&net.mar, &shared.uuid).expect("still here");
    assert!(!after.demographics.consent_share, "the withdrawal here stands");
    assert_eq!(after.demographics.email, "carla@example.org", "the rest of Sol's edit arrived");
    let log =
        audit::list(&net.mar.clinic, &net.mar.admin, &audit::Query { limit: 50, ..Default::default() }).expect("log");
    assert!(log.iter().any(|e| e.action == "patient.consent_withdrawn"), "consent has its own audit entry");
}

#[test]
fn a_remote_update_that_removes_an_allergy_waits_for_a_clinician() {
    let net = network();
    let clinical = Clinical {
        allergies: vec![Allergy { substance: "Penicillin".into(), severity: "severe".into(), reaction: "Rash".into() }],
        conditions: vec!["Asthma".into()],
        ..Default::default()
    };
    let p = NewPatient {
        demographics: Demographics {
            given_names: "Alma".into(),
            family_name: "Allergic".into(),
            date_of_birth: "1980-02-29".into(),
            consent_share: true,
            ..Default::default()
        },
        clinical: Some(clinical.clone()),
    };
    let shared = patients::register(&net.sol.clinic, &net.sol.doctor, &p, true).expect("register");
    net.sol.sync();
    net.mar.sync();
    assert_eq!(find(&net.mar, &shared.uuid).expect("arrived").clinical.expect("clinical").allergies.len(), 1);

    let removed = NewPatient { clinical: Some(Clinical { allergies: vec![], ..clinical }), ..p };
    patients::update(&net.sol.clinic, &net.sol.doctor, shared.id, &removed).expect("Sol removes the allergy");
    net.sol.sync();
    net.mar.sync();
    let here = find(&net.mar, &shared.uuid).expect("here");
    assert_eq!(here.clinical.expect("clinical").allergies.len(), 1, "the allergy stays until a clinician decides");

    // The admin sees that something waits, but no clinical field, and may not decide it.
    let seen = sync::conflicts(&net.mar.clinic, &net.mar.admin).expect("conflicts");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].clinical && seen[0].local.allergies.is_empty() && seen[0].removes.is_empty(), "{:?}", seen[0]);
    let refused = sync::resolve(&net.mar.clinic, &net.mar.admin, seen[0].id, Resolution::TakeIncoming);
    assert!(matches!(refused, Err(galen_core::Error::Denied { .. })), "{refused:?}");

    // The doctor finds it in the patient's chart, sees what would go, and decides.
    let waiting = sync::patient_conflicts(&net.mar.clinic, &net.mar.doctor, here.id).expect("chart");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].removes, [Removed::Allergy("Penicillin".into())]);
    sync::resolve(&net.mar.clinic, &net.mar.doctor, waiting[0].id, Resolution::TakeIncoming).expect("doctor decides");
    let decided = find(&net.mar, &shared.uuid).expect("here").clinical.expect("clinical");
    assert!(decided.allergies.is_empty() && decided.conditions == ["Asthma"], "{decided:?}");
}
