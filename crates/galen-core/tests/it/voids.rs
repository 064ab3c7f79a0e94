//! A void notice voids only a signed, current, ordinary document of its own patient: each way round that is
//! refused with a field error naming `voids`, and nothing is written.

use crate::documents::{doctor, rx, DOC_PW};
use crate::support::*;
use galen_core::documents::{self, Body, VoidNotice};
use galen_core::patients::{self, Demographics, NewPatient, Sex};
use galen_core::{Clinic, Error, Session};

fn patient(clinic: &Clinic, doc: &Session, given: &str) -> i64 {
    let demographics = Demographics {
        given_names: given.into(),
        family_name: "Teixeira".into(),
        sex: Sex::Female,
        date_of_birth: "1975-05-05".into(),
        ..Default::default()
    };
    patients::register(clinic, doc, &NewPatient { demographics, clinical: None }, true).expect("register").id
}

fn void_of(uuid: &str) -> Body {
    Body::Void(VoidNotice { voids: uuid.into(), reason: "Written for the wrong patient".into() })
}

/// Drafting a void notice naming `uuid` for `patient` is refused on the `voids` field.
#[track_caller]
fn refused(clinic: &Clinic, doc: &Session, patient: i64, uuid: &str) {
    match documents::create_draft(clinic, doc, patient, void_of(uuid)) {
        Err(Error::Invalid(e)) => assert!(e.0.iter().any(|f| f.field == "voids"), "{e}"),
        other => panic!("a void notice naming {uuid} must be refused, got {other:?}"),
    }
}

/// A clinic with a doctor and two patients, Ana and Bia.
fn setup() -> (Fixture, Clinic, Session, i64, i64) {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let (ana, bia) = (patient(&clinic, &doc, "Ana"), patient(&clinic, &doc, "Bia"));
    (fx, clinic, doc, ana, bia)
}

fn signed(clinic: &Clinic, doc: &Session, patient: i64) -> documents::Document {
    let d = documents::create_draft(clinic, doc, patient, rx(clinic)).expect("draft");
    documents::sign(clinic, doc, d.id, DOC_PW, true).expect("sign")
}

#[test]
fn a_void_notice_naming_no_document_is_refused() {
    let (_fx, clinic, doc, ana, _) = setup();
    refused(&clinic, &doc, ana, "01a1fd6f-e9de-726b-865f-f92e56b1a898");
}

#[test]
fn a_void_notice_for_another_patients_document_is_refused_and_voids_nothing() {
    let (_fx, clinic, doc, ana, bia) = setup();
    let bias = signed(&clinic, &doc, bia);
    refused(&clinic, &doc, ana, &bias.uuid);
    assert_eq!(documents::open(&clinic, &doc, bias.id).expect("open").document.voided_by, None);
}

#[test]
fn a_void_notice_for_a_draft_is_refused() {
    let (_fx, clinic, doc, ana, _) = setup();
    let draft = documents::create_draft(&clinic, &doc, ana, rx(&clinic)).expect("draft");
    refused(&clinic, &doc, ana, &draft.uuid);
}

#[test]
fn a_void_notice_for_a_document_already_void_is_refused() {
    let (_fx, clinic, doc, ana, _) = setup();
    let anas = signed(&clinic, &doc, ana);
    documents::void(&clinic, &doc, anas.id, "Dose was wrong", DOC_PW).expect("void");
    refused(&clinic, &doc, ana, &anas.uuid);
}

#[test]
fn a_void_notice_cannot_void_a_void_notice() {
    let (_fx, clinic, doc, ana, _) = setup();
    let anas = signed(&clinic, &doc, ana);
    let notice = documents::void(&clinic, &doc, anas.id, "Dose was wrong", DOC_PW).expect("void");
    refused(&clinic, &doc, ana, &notice.uuid);
}

#[test]
fn a_void_notice_whose_document_was_voided_meanwhile_is_refused_at_signing() {
    let (_fx, clinic, doc, ana, _) = setup();
    let anas = signed(&clinic, &doc, ana);
    let stale = documents::create_draft(&clinic, &doc, ana, void_of(&anas.uuid)).expect("a valid void draft");
    documents::void(&clinic, &doc, anas.id, "Duplicate", DOC_PW).expect("voided by another notice");
    assert!(
        matches!(documents::sign(&clinic, &doc, stale.id, DOC_PW, true), Err(Error::Invalid(_))),
        "the second notice is refused when signed"
    );
}

#[test]
fn a_void_refused_for_a_wrong_password_leaves_no_unsigned_notice_behind() {
    let (_fx, clinic, doc, ana, _) = setup();
    let anas = signed(&clinic, &doc, ana);
    match documents::void(&clinic, &doc, anas.id, "Duplicate", "not my password at all") {
        Err(Error::Invalid(e)) => assert!(e.0.iter().any(|f| f.field == "password"), "{e}"),
        other => panic!("a wrong password must refuse the void, got {other:?}"),
    }
    let listed = documents::list_for_patient(&clinic, &doc, ana).expect("list");
    assert_eq!(listed.len(), 1, "only the prescription: no draft notice left over: {listed:?}");
    assert_eq!(listed[0].voided_by, None, "and it is not void");
    let notice = documents::void(&clinic, &doc, anas.id, "Duplicate", DOC_PW).expect("the right password voids it");
    assert_eq!(documents::list_for_patient(&clinic, &doc, ana).expect("list").len(), 2, "{notice:?}");
}
