//! How paper words things, in the clinic's printout language (English, Portuguese or Spanish): every label of
//! every printout, the stored choices (a manner of death, a dose unit), prescription lines, and dates. Shared by
//! the printed pages (`pdf::layout`) and the listing of a verified QR (`qr::report`, in English), so the person at
//! the counter reads the same words on both. What a doctor typed is printed as typed.
//!
//! Each catalog entry holds all three languages by construction, so none can be missing. The Portuguese is
//! Portugal's ("utente", "receita médica"), the Spanish a neutral one ("paciente", "receta médica").

use super::model::RxLine;

/// The language paper is worded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words(usize);

/// The languages, in the order the catalog's columns hold them.
pub const LANGUAGES: [&str; 3] = ["en", "pt", "es"];

impl Words {
    /// English: the QR listing's, and the fallback.
    pub const EN: Words = Words(0);

    /// The words of a language code (`en`, `pt`, `es`); anything else is English.
    pub fn of(language: &str) -> Words {
        Words(LANGUAGES.iter().position(|l| *l == language).unwrap_or(0))
    }

    /// Its language code.
    pub fn language(self) -> &'static str {
        LANGUAGES[self.0]
    }

    /// The words for `key`. A key the catalog lacks is a bug (a test walks every use); it prints as itself.
    pub fn say(self, key: &str) -> &'static str {
        match CATALOG.iter().find(|(k, _)| *k == key) {
            Some((_, texts)) => texts[self.0],
            None => {
                debug_assert!(false, "no words for {key:?}");
                ""
            }
        }
    }

    /// The words for `key` with its `{name}` placeholders filled in.
    pub fn fill(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.say(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// A stored choice such as `pending_investigation` as printed: "Pending investigation", "Em investigação".
    pub fn value(self, code: &str) -> String {
        match VALUES.iter().find(|(k, _)| *k == code) {
            Some((_, texts)) => texts[self.0].to_owned(),
            None => capitalized(code),
        }
    }

    /// A document kind as the paper's title names it.
    pub fn title(self, kind: &str) -> &'static str {
        let key = match kind {
            "prescription" | "birth" | "death" | "sick_leave" | "void" => kind,
            _ => "document",
        };
        self.say(&format!("title.{key}"))
    }

    /// One prescription line as a pharmacist reads it, e.g. "Amoxicillin 500 mg capsule — 500 mg by mouth every
    /// 8 hours for 7 days — Qty 21 — Refills 0".
    pub fn rx_line(self, l: &RxLine) -> String {
        let when = if l.prn {
            self.say("rx.as_needed").to_owned()
        } else {
            let unit = |n: u32| self.unit(&l.frequency_unit, n);
            if l.frequency == 1 {
                self.fill("rx.every_one", &[("unit", &unit(1))])
            } else {
                self.fill("rx.every", &[("n", &l.frequency.to_string()), ("unit", &unit(l.frequency))])
            }
        };
        let duration = if l.duration > 0 {
            // English keeps the plural it has always printed ("for 1 days"), so that pages printed before still
            // draw the same and check page by page (`pdf::drawing::LAYOUT`).
            let period = if self == Words::EN {
                self.value(&l.duration_period).to_lowercase()
            } else {
                self.unit(&l.duration_period, l.duration)
            };
            format!(" {}", self.fill("rx.for", &[("n", &l.duration.to_string()), ("period", &period)]))
        } else {
            String::new()
        };
        let qty = self.fill("rx.qty", &[("n", &l.quantity.to_string())]);
        let refills = self.fill("rx.refills", &[("n", &l.refills.to_string())]);
        let dose_unit = self.value(&l.dose_unit);
        format!("{} — {} {dose_unit} {} {when}{duration} — {qty} — {refills}", l.medicament, l.dose, l.route)
    }

    /// The secondary line under a prescription line: indication, form, substitution, validity, comment.
    pub fn rx_details(self, l: &RxLine) -> String {
        let mut parts = Vec::new();
        if !l.indication.is_empty() {
            parts.push(self.fill("rx.for_what", &[("what", &l.indication)]));
        }
        if !l.form.is_empty() {
            parts.push(self.fill("rx.form", &[("form", &l.form)]));
        }
        parts.push(self.say(if l.allow_substitution { "rx.generic" } else { "rx.no_substitute" }).to_owned());
        if !l.valid_until.is_empty() {
            parts.push(self.fill("rx.valid_until", &[("date", &l.valid_until)]));
        }
        if !l.comment.is_empty() {
            parts.push(l.comment.clone());
        }
        parts.join(" · ")
    }

    /// A unit of time (`hours`, `days`…) for a count: "1 hour", "8 hours"; "1 dia", "8 dias".
    fn unit(self, unit: &str, n: u32) -> String {
        let plural = self.value(unit);
        if n != 1 {
            return plural.to_lowercase();
        }
        match VALUES.iter().find(|(k, _)| *k == format!("{unit}.one")) {
            Some((_, texts)) => texts[self.0].to_owned(),
            None => plural.to_lowercase(),
        }
    }

    /// A day on paper, e.g. "Tuesday 1 December 2026", "terça-feira, 1 de dezembro de 2026".
    pub fn day(self, date: &str) -> String {
        self.dated(date, "date.long", &WEEKDAYS, &MONTHS)
    }

    /// A day in a list, e.g. "Tue 8 Dec 2026", "ter 8 dez 2026".
    pub fn short_day(self, date: &str) -> String {
        self.dated(date, "date.short", &WEEKDAYS_SHORT, &MONTHS_SHORT)
    }

    fn dated(self, date: &str, key: &str, weekdays: &[[&str; 3]; 7], months: &[[&str; 3]; 12]) -> String {
        let Ok(d) = date.parse::<jiff::civil::Date>() else { return date.to_owned() };
        let weekday = weekdays[d.weekday().to_monday_zero_offset() as usize][self.0];
        let month = months[(d.month() - 1) as usize][self.0];
        self.fill(
            key,
            &[("weekday", weekday), ("day", &d.day().to_string()), ("month", month), ("year", &d.year().to_string())],
        )
    }
}

/// "2026-11-21T10:00:00.000Z" → "2026-11-21 10:00 UTC"; anything else as it is. The same in every language.
pub fn timestamp(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(d), Some(t)) if rfc3339.ends_with('Z') => format!("{d} {t} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// `pending_investigation` → "Pending investigation": a code the catalog does not word.
fn capitalized(s: &str) -> String {
    let spaced = s.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

const WEEKDAYS: [[&str; 3]; 7] = [
    ["Monday", "segunda-feira", "lunes"],
    ["Tuesday", "terça-feira", "martes"],
    ["Wednesday", "quarta-feira", "miércoles"],
    ["Thursday", "quinta-feira", "jueves"],
    ["Friday", "sexta-feira", "viernes"],
    ["Saturday", "sábado", "sábado"],
    ["Sunday", "domingo", "domingo"],
];
const WEEKDAYS_SHORT: [[&str; 3]; 7] = [
    ["Mon", "seg", "lun"],
    ["Tue", "ter", "mar"],
    ["Wed", "qua", "mié"],
    ["Thu", "qui", "jue"],
    ["Fri", "sex", "vie"],
    ["Sat", "sáb", "sáb"],
    ["Sun", "dom", "dom"],
];
const MONTHS: [[&str; 3]; 12] = [
    ["January", "janeiro", "enero"],
    ["February", "fevereiro", "febrero"],
    ["March", "março", "marzo"],
    ["April", "abril", "abril"],
    ["May", "maio", "mayo"],
    ["June", "junho", "junio"],
    ["July", "julho", "julio"],
    ["August", "agosto", "agosto"],
    ["September", "setembro", "septiembre"],
    ["October", "outubro", "octubre"],
    ["November", "novembro", "noviembre"],
    ["December", "dezembro", "diciembre"],
];
const MONTHS_SHORT: [[&str; 3]; 12] = [
    ["Jan", "jan", "ene"],
    ["Feb", "fev", "feb"],
    ["Mar", "mar", "mar"],
    ["Apr", "abr", "abr"],
    ["May", "mai", "may"],
    ["Jun", "jun", "jun"],
    ["Jul", "jul", "jul"],
    ["Aug", "ago", "ago"],
    ["Sep", "set", "sept"],
    ["Oct", "out", "oct"],
    ["Nov", "nov", "nov"],
    ["Dec", "dez", "dic"],
];

/// Stored choices as printed (value lists: manner and place of death, units, dose units, sex, severity). A
/// `.one` entry is the singular of a unit of time.
const VALUES: &[(&str, [&str; 3])] = &[
    ("natural", ["Natural", "Natural", "Natural"]),
    ("suicide", ["Suicide", "Suicídio", "Suicidio"]),
    ("homicide", ["Homicide", "Homicídio", "Homicidio"]),
    ("undetermined", ["Undetermined", "Indeterminada", "Indeterminada"]),
    ("pending_investigation", ["Pending investigation", "Em investigação", "Pendiente de investigación"]),
    ("home", ["Home", "Domicílio", "Domicilio"]),
    ("work", ["Work", "Local de trabalho", "Lugar de trabajo"]),
    ("public_place", ["Public place", "Via pública", "Vía pública"]),
    ("health_center", ["Health center", "Unidade de saúde", "Centro sanitario"]),
    ("minutes", ["Minutes", "Minutos", "Minutos"]),
    ("minutes.one", ["minute", "minuto", "minuto"]),
    ("hours", ["Hours", "Horas", "Horas"]),
    ("hours.one", ["hour", "hora", "hora"]),
    ("days", ["Days", "Dias", "Días"]),
    ("days.one", ["day", "dia", "día"]),
    ("weeks", ["Weeks", "Semanas", "Semanas"]),
    ("weeks.one", ["week", "semana", "semana"]),
    ("months", ["Months", "Meses", "Meses"]),
    ("months.one", ["month", "mês", "mes"]),
    ("years", ["Years", "Anos", "Años"]),
    ("years.one", ["year", "ano", "año"]),
    ("mg", ["mg", "mg", "mg"]),
    ("g", ["g", "g", "g"]),
    ("mcg", ["mcg", "mcg", "mcg"]),
    ("mL", ["mL", "mL", "mL"]),
    ("IU", ["IU", "UI", "UI"]),
    ("tablet", ["tablet", "comprimido", "comprimido"]),
    ("capsule", ["capsule", "cápsula", "cápsula"]),
    ("drop", ["drop", "gota", "gota"]),
    ("puff", ["puff", "inalação", "inhalación"]),
    ("unit", ["unit", "unidade", "unidad"]),
    ("female", ["Female", "Feminino", "Femenino"]),
    ("male", ["Male", "Masculino", "Masculino"]),
    ("other", ["Other", "Outro", "Otro"]),
    ("unknown", ["Unknown", "Desconhecido", "Desconocido"]),
    ("mild", ["Mild", "Ligeira", "Leve"]),
    ("moderate", ["Moderate", "Moderada", "Moderada"]),
    ("severe", ["Severe", "Grave", "Grave"]),
];

/// Every label and sentence printed, by key; `{name}` placeholders are filled by `Words::fill`.
const CATALOG: &[(&str, [&str; 3])] = &[
    // Dates.
    ("date.long", ["{weekday} {day} {month} {year}", "{weekday}, {day} de {month} de {year}", "{weekday}, {day} de {month} de {year}"]),
    ("date.short", ["{weekday} {day} {month} {year}", "{weekday} {day} {month} {year}", "{weekday} {day} {month} {year}"]),
    // Every page.
    ("page", ["Page {i} of {n}", "Página {i} de {n}", "Página {i} de {n}"]),
    ("continued", ["{clinic} — {what} (continued)", "{clinic} — {what} (continuação)", "{clinic} — {what} (continuación)"]),
    ("yes", ["Yes", "Sim", "Sí"]),
    ("no", ["No", "Não", "No"]),
    // Signed documents.
    ("title.prescription", ["Prescription", "Receita médica", "Receta médica"]),
    ("title.birth", ["Birth certificate", "Certificado de nascimento", "Certificado de nacimiento"]),
    ("title.death", ["Death certificate", "Certificado de óbito", "Certificado de defunción"]),
    ("title.sick_leave", ["Sick-leave certificate", "Certificado de incapacidade temporária", "Certificado de incapacidad temporal"]),
    ("title.void", ["Void notice", "Aviso de anulação", "Aviso de anulación"]),
    ("title.document", ["Document", "Documento", "Documento"]),
    ("document.for", ["{title} for {patient}", "{title} de {patient}", "{title} de {patient}"]),
    // Portuguese and Spanish titles are longer: their footers leave the title to the page's head.
    ("document.footer", ["{title} {uuid} · {patient} · MRN {mrn}", "{uuid} · {patient} · N.º {mrn}", "{uuid} · {patient} · N.º {mrn}"]),
    ("patient", ["Patient", "Utente", "Paciente"]),
    ("mrn", ["Record number (MRN)", "N.º de processo", "N.º de historia clínica"]),
    ("date_of_birth", ["Date of birth", "Data de nascimento", "Fecha de nacimiento"]),
    ("superseded", ["SUPERSEDED — replaced by document {by}", "SUBSTITUÍDO — pelo documento {by}", "SUSTITUIDO — por el documento {by}"]),
    ("voided", ["VOID — voided by notice {by}", "ANULADO — pelo aviso {by}", "ANULADO — por el aviso {by}"]),
    ("replaces", ["Replaces", "Substitui", "Sustituye"]),
    ("replaces.what", ["document {uuid}, which it corrects", "o documento {uuid}, que corrige", "el documento {uuid}, al que corrige"]),
    ("issued_on", ["Issued on", "Emitida em", "Emitida el"]),
    ("pharmacy", ["Pharmacy", "Farmácia", "Farmacia"]),
    ("rx", ["Rx", "Prescrição", "Prescripción"]),
    ("notes", ["Notes", "Observações", "Observaciones"]),
    ("mother", ["Mother", "Mãe", "Madre"]),
    ("father", ["Father", "Pai", "Padre"]),
    ("place_of_birth", ["Place of birth", "Local de nascimento", "Lugar de nacimiento"]),
    ("certified_on", ["Certified on", "Certificado em", "Certificado el"]),
    ("observations", ["Observations", "Observações", "Observaciones"]),
    ("died_at", ["Date and time of death", "Data e hora do óbito", "Fecha y hora de la defunción"]),
    ("immediate_cause", ["Immediate cause", "Causa imediata", "Causa inmediata"]),
    ("due_to", ["Due to", "Devida a", "Debida a"]),
    ("manner", ["Manner of death", "Forma de morte", "Forma de muerte"]),
    ("place_of_death", ["Place of death", "Local do óbito", "Lugar de la defunción"]),
    ("location", ["Location", "Localização", "Ubicación"]),
    ("autopsy", ["Autopsy", "Autópsia", "Autopsia"]),
    ("sick_leave.text", [
        "I certify that I have examined the patient named above, who is unfit for work from {from} to {to} inclusive.",
        "Certifico que examinei o utente acima identificado, que se encontra incapaz para o trabalho de {from} a {to}, inclusive.",
        "Certifico que he examinado al paciente arriba indicado, que se encuentra incapacitado para trabajar del {from} al {to}, ambos inclusive.",
    ]),
    ("restrictions", ["Restrictions", "Restrições", "Restricciones"]),
    ("diagnosis", ["Diagnosis", "Diagnóstico", "Diagnóstico"]),
    ("diagnosis.consented", [
        "{diagnosis} (printed with the patient's consent)",
        "{diagnosis} (impresso com o consentimento do utente)",
        "{diagnosis} (impreso con el consentimiento del paciente)",
    ]),
    ("void.text", [
        "Document {uuid} is void and must not be used.",
        "O documento {uuid} foi anulado e não deve ser usado.",
        "El documento {uuid} está anulado y no debe usarse.",
    ]),
    ("reason", ["Reason", "Motivo", "Motivo"]),
    ("signed_by", ["Signed electronically by", "Assinado eletronicamente por", "Firmado electrónicamente por"]),
    ("licence", ["Licence {licence}", "Cédula profissional {licence}", "N.º de colegiado {licence}"]),
    ("signed_at", ["Signed {when}", "Assinado em {when}", "Firmado el {when}"]),
    ("fingerprint", ["OpenPGP key fingerprint", "Impressão digital da chave OpenPGP", "Huella de la clave OpenPGP"]),
    ("qr.part", ["QR {k} of {count}: lines {first}–{last} of {total}", "QR {k} de {count}: linhas {first}–{last} de {total}", "QR {k} de {count}: líneas {first}–{last} de {total}"]),
    ("qr.part_how", [
        "This prescription's lines are split over {count} QR codes, one a page, each signed by the doctor. To check these lines offline, scan this QR and verify its text with the doctor's public key: galen verify --qr TEXT --key doctor.asc. It lists every field it carries, to compare with this page.",
        "As linhas desta receita estão repartidas por {count} códigos QR, um por página, cada um assinado pelo médico. Para verificar estas linhas sem ligação, leia este QR e verifique o texto com a chave pública do médico: galen verify --qr TEXTO --key medico.asc. Lista todos os campos que contém, para comparar com esta página.",
        "Las líneas de esta receta están repartidas en {count} códigos QR, uno por página, cada uno firmado por el médico. Para comprobar estas líneas sin conexión, escanee este QR y verifique su texto con la clave pública del médico: galen verify --qr TEXTO --key medico.asc. Enumera todos los campos que contiene, para compararlos con esta página.",
    ]),
    ("qr.how", [
        "To check this document offline, scan the QR code and verify its text with the doctor's public key: galen verify --qr TEXT --key doctor.asc. It lists every field it carries, to compare with this page. This PDF also carries the signed JSON, its OpenPGP signature and the doctor's public key: galen verify FILE.pdf checks that its pages are what was signed.",
        "Para verificar este documento sem ligação, leia o código QR e verifique o texto com a chave pública do médico: galen verify --qr TEXTO --key medico.asc. Lista todos os campos que contém, para comparar com esta página. Este PDF contém também o JSON assinado, a sua assinatura OpenPGP e a chave pública do médico: galen verify FICHEIRO.pdf confirma que as páginas são o que foi assinado.",
        "Para comprobar este documento sin conexión, escanee el código QR y verifique su texto con la clave pública del médico: galen verify --qr TEXTO --key medico.asc. Enumera todos los campos que contiene, para compararlos con esta página. Este PDF contiene además el JSON firmado, su firma OpenPGP y la clave pública del médico: galen verify ARCHIVO.pdf comprueba que sus páginas son lo que se firmó.",
    ]),
    ("qr.none", [
        "This document was signed before Galen printed QR codes, so it has none. The PDF carries the signed JSON, its OpenPGP signature and the doctor's public key as attachments: check it offline with galen verify FILE.pdf --key doctor.asc.",
        "Este documento foi assinado antes de o Galen imprimir códigos QR, por isso não tem nenhum. O PDF contém o JSON assinado, a sua assinatura OpenPGP e a chave pública do médico como anexos: verifique-o sem ligação com galen verify FICHEIRO.pdf --key medico.asc.",
        "Este documento se firmó antes de que Galen imprimiera códigos QR, así que no tiene ninguno. El PDF contiene el JSON firmado, su firma OpenPGP y la clave pública del médico como adjuntos: compruébelo sin conexión con galen verify ARCHIVO.pdf --key medico.asc.",
    ]),
    ("qr.lines_all", ["{total} of {total} (all in this QR)", "{total} de {total} (todas neste QR)", "{total} de {total} (todas en este QR)"]),
    ("qr.lines_part", [
        "{first}–{last} of {total} in this QR (the others are in other QRs)",
        "{first}–{last} de {total} neste QR (as outras estão noutros QR)",
        "{first}–{last} de {total} en este QR (las demás están en otros QR)",
    ]),
    // Prescription lines.
    ("rx.as_needed", ["as needed", "se necessário", "si es necesario"]),
    ("rx.every_one", ["every {unit}", "a cada {unit}", "cada {unit}"]),
    ("rx.every", ["every {n} {unit}", "a cada {n} {unit}", "cada {n} {unit}"]),
    ("rx.for", ["for {n} {period}", "durante {n} {period}", "durante {n} {period}"]),
    ("rx.qty", ["Qty {n}", "Qtd. {n}", "Cant. {n}"]),
    ("rx.refills", ["Refills {n}", "Renovações {n}", "Repeticiones {n}"]),
    ("rx.for_what", ["For: {what}", "Indicação: {what}", "Indicación: {what}"]),
    ("rx.form", ["Form: {form}", "Forma: {form}", "Forma: {form}"]),
    ("rx.generic", ["Generic substitution allowed", "Substituição por genérico permitida", "Se permite sustituir por genérico"]),
    ("rx.no_substitute", ["Do not substitute", "Não substituir", "No sustituir"]),
    ("rx.valid_until", ["Valid until {date}", "Válida até {date}", "Válida hasta {date}"]),
    // The patient ID card.
    ("card.title", ["Patient ID card", "Cartão do utente", "Tarjeta del paciente"]),
    ("card.name", ["ID card — {name}", "Cartão — {name}", "Tarjeta — {name}"]),
    ("card.footer", ["Patient ID card · {name} · MRN {mrn}", "Cartão do utente · {name} · N.º {mrn}", "Tarjeta del paciente · {name} · N.º {mrn}"]),
    ("card.cut", [
        "Cut along the grey line. Labels below are for forms and specimen tubes.",
        "Recorte pela linha cinzenta. As etiquetas abaixo são para formulários e tubos de colheita.",
        "Recorte por la línea gris. Las etiquetas de abajo son para formularios y tubos de muestras.",
    ]),
    ("card.born", ["Date of birth {date}", "Data de nascimento {date}", "Fecha de nacimiento {date}"]),
    ("card.label", ["DOB {date}   {mrn}", "DN {date}   {mrn}", "FN {date}   {mrn}"]),
    // The recovery sheet.
    ("recovery.title", ["Galen recovery key", "Chave de recuperação do Galen", "Clave de recuperación de Galen"]),
    ("recovery.footer", ["Galen recovery key · {clinic} · {created}", "Chave de recuperação do Galen · {clinic} · {created}", "Clave de recuperación de Galen · {clinic} · {created}"]),
    ("recovery.heading", ["Recovery key", "Chave de recuperação", "Clave de recuperación"]),
    ("recovery.for", ["For the Galen database of {clinic}, issued {created}.", "Para a base de dados do Galen de {clinic}, emitida em {created}.", "Para la base de datos de Galen de {clinic}, emitida el {created}."]),
    ("recovery.what", ["What it is", "O que é", "Qué es"]),
    ("recovery.what_text", [
        "This key opens the clinic's encrypted database if the computer's keyring is lost (a new laptop, a reinstalled system) and no administrator password is known. Whoever holds it can read every patient record.",
        "Esta chave abre a base de dados cifrada da clínica se o porta-chaves do computador se perder (um portátil novo, um sistema reinstalado) e nenhuma palavra-passe de administrador for conhecida. Quem a tiver pode ler todos os processos dos utentes.",
        "Esta clave abre la base de datos cifrada de la clínica si se pierde el llavero del ordenador (un portátil nuevo, un sistema reinstalado) y no se conoce ninguna contraseña de administrador. Quien la tenga puede leer todas las historias de los pacientes.",
    ]),
    ("recovery.where", ["Where to keep it", "Onde a guardar", "Dónde guardarla"]),
    ("recovery.where_text", [
        "Lock it away, away from the laptop: a safe, or a sealed envelope with the practice's legal papers. Do not photograph it, e-mail it or store it on the same computer.",
        "Guarde-a fechada, longe do portátil: num cofre, ou num envelope selado com os documentos legais do consultório. Não a fotografe, não a envie por e-mail nem a guarde no mesmo computador.",
        "Guárdela bajo llave, lejos del portátil: en una caja fuerte o en un sobre cerrado con los papeles legales de la consulta. No la fotografíe, no la envíe por correo ni la guarde en el mismo ordenador.",
    ]),
    ("recovery.how", ["How to use it", "Como a usar", "Cómo usarla"]),
    ("recovery.how_text", [
        "Start Galen. On the unlock screen choose \"Recovery key\" and type the key; capital letters, spaces and dashes do not matter, and look-alike characters (0/O, 1/I/L) are forgiven. Galen puts the key back in the computer's keyring, and everyone signs in as before.",
        "Abra o Galen. No ecrã de desbloqueio escolha \"Chave de recuperação\" e escreva a chave; maiúsculas, espaços e hífenes não importam, e caracteres parecidos (0/O, 1/I/L) são aceites. O Galen volta a guardar a chave no porta-chaves do computador e todos entram como antes.",
        "Abra Galen. En la pantalla de desbloqueo elija \"Clave de recuperación\" y escriba la clave; las mayúsculas, los espacios y los guiones no importan, y se aceptan caracteres parecidos (0/O, 1/I/L). Galen vuelve a guardar la clave en el llavero del ordenador y todos entran como antes.",
    ]),
    ("recovery.stops", ["When it stops working", "Quando deixa de funcionar", "Cuándo deja de funcionar"]),
    ("recovery.stops_text", [
        "Rotating the database key, or printing a new recovery sheet from Administration, replaces this key. Destroy this sheet when that happens.",
        "Trocar a chave da base de dados, ou imprimir uma nova folha de recuperação na Administração, substitui esta chave. Destrua esta folha quando isso acontecer.",
        "Cambiar la clave de la base de datos, o imprimir una nueva hoja de recuperación desde Administración, sustituye esta clave. Destruya esta hoja cuando ocurra.",
    ]),
    ("recovery.kept_at", ["Kept at", "Guardada em", "Guardada en"]),
    ("recovery.checked", ["Checked by, date", "Verificada por, data", "Verificada por, fecha"]),
    // The day list.
    ("day_list.title", ["Day list", "Lista do dia", "Lista del día"]),
    ("day_list.name", ["Day list — {doctor} — {day}", "Lista do dia — {doctor} — {day}", "Lista del día — {doctor} — {day}"]),
    ("day_list.for", ["Day list for {doctor}, {day}", "Lista do dia de {doctor}, {day}", "Lista del día de {doctor}, {day}"]),
    ("day_list.footer", ["Day list · {doctor} · {day}", "Lista do dia · {doctor} · {day}", "Lista del día · {doctor} · {day}"]),
    ("doctor", ["Doctor", "Médico", "Médico"]),
    ("day", ["Day", "Dia", "Día"]),
    ("visits", ["Visits", "Consultas", "Citas"]),
    ("visits.one", ["1 visit", "1 consulta", "1 cita"]),
    ("visits.many", ["{n} visits", "{n} consultas", "{n} citas"]),
    ("printed", ["Printed", "Impresso", "Impreso"]),
    ("day_list.printed", ["{at} (visits booked later are not on this list)", "{at} (as consultas marcadas depois não estão nesta lista)", "{at} (las citas reservadas después no están en esta lista)"]),
    ("day_list.none", ["No visits are booked with this doctor on this day.", "Não há consultas marcadas com este médico neste dia.", "No hay citas reservadas con este médico este día."]),
    ("day_list.born", [" · born {date}", " · nasc. {date}", " · nac. {date}"]),
    ("day_list.clinical", ["(clinical)", "(clínico)", "(clínico)"]),
    ("day_list.until", ["to {time}", "até {time}", "hasta {time}"]),
    ("time", ["Time", "Hora", "Hora"]),
    ("phone", ["Phone", "Telefone", "Teléfono"]),
    ("standing", ["Standing", "Estado", "Estado"]),
    ("visit.waiting", ["Waiting", "Em espera", "En espera"]),
    ("visit.in_progress", ["With the doctor", "Em consulta", "En consulta"]),
    ("visit.done", ["Seen", "Atendido", "Atendido"]),
    ("visit.no_show", ["Did not come", "Faltou", "No acudió"]),
    ("visit.cancelled", ["Cancelled", "Cancelada", "Cancelada"]),
    // The appointment card.
    ("appointment.title", ["Appointment card", "Cartão de consulta", "Tarjeta de cita"]),
    ("appointment.name", ["Appointment — {name}", "Consulta — {name}", "Cita — {name}"]),
    ("appointment.footer", ["Appointment card · {name} · {day} {time}", "Cartão de consulta · {name} · {day} {time}", "Tarjeta de cita · {name} · {day} {time}"]),
    ("appointment.cut", ["Cut along the grey line and give it to the patient.", "Recorte pela linha cinzenta e entregue-o ao utente.", "Recorte por la línea gris y entréguela al paciente."]),
    ("appointment.yours", ["Your appointment", "A sua consulta", "Su cita"]),
    ("appointment.length", ["{time}  ({minutes} minutes)", "{time}  ({minutes} minutos)", "{time}  ({minutes} minutos)"]),
    ("appointment.with", ["with {doctor}", "com {doctor}", "con {doctor}"]),
    ("appointment.for", ["For {name} · {mrn}", "Para {name} · {mrn}", "Para {name} · {mrn}"]),
    ("appointment.call", [
        "If you cannot come, please call {phone}, so that someone else can have the time.",
        "Se não puder vir, ligue para {phone}, para que outra pessoa possa ter a hora.",
        "Si no puede venir, llame al {phone}, para que otra persona pueda tener la hora.",
    ]),
    ("appointment.tell", [
        "If you cannot come, please tell us, so that someone else can have the time.",
        "Se não puder vir, avise-nos, para que outra pessoa possa ter a hora.",
        "Si no puede venir, avísenos, para que otra persona pueda tener la hora.",
    ]),
    ("appointment.next", ["Your next visits", "As suas próximas consultas", "Sus próximas citas"]),
    // The access report.
    ("access.name", ["Access report — {name}", "Registo de acessos — {name}", "Registro de accesos — {name}"]),
    ("access.for", ["Access report for {name}", "Registo de acessos de {name}", "Registro de accesos de {name}"]),
    ("access.footer", ["Access report · {name} · MRN {mrn} · printed {printed}", "Registo de acessos · {name} · N.º {mrn} · impresso {printed}", "Registro de accesos · {name} · N.º {mrn} · impreso {printed}"]),
    ("access.title", ["Who accessed this record", "Quem acedeu a este processo", "Quién accedió a esta historia"]),
    ("access.covers", ["Covers", "Período", "Período"]),
    ("access.span", ["{from} to {to}", "{from} a {to}", "{from} a {to}"]),
    ("access.none", ["No rows", "Sem registos", "Sin registros"]),
    ("access.text", [
        "Every time someone opened, changed, printed or exported this record, its documents or its appointments, as the clinic's tamper-evident audit trail recorded it.",
        "Todas as vezes que alguém abriu, alterou, imprimiu ou exportou este processo, os seus documentos ou as suas consultas, tal como o registo de auditoria inviolável da clínica o guardou.",
        "Cada vez que alguien abrió, cambió, imprimió o exportó esta historia, sus documentos o sus citas, tal como lo guardó el registro de auditoría inviolable de la clínica.",
    ]),
    ("access.cut", [" Only the newest {n} rows are listed.", " Só são listados os {n} registos mais recentes.", " Solo se listan los {n} registros más recientes."]),
    ("access.emergency", ["Under emergency access", "Com acesso de emergência", "Con acceso de emergencia"]),
    ("access.when", ["When (UTC)", "Quando (UTC)", "Cuándo (UTC)"]),
    ("access.who", ["Who", "Quem", "Quién"]),
    ("access.what", ["What", "O quê", "Qué"]),
    ("access.outcome", ["Outcome", "Resultado", "Resultado"]),
    ("outcome.ok", ["Done", "Feito", "Hecho"]),
    ("outcome.failed", ["Failed", "Falhou", "Falló"]),
    ("outcome.denied", ["Refused", "Recusado", "Rechazado"]),
    // The record summary a patient takes away.
    ("record.name", ["Record summary — {name}", "Resumo do processo — {name}", "Resumen de la historia — {name}"]),
    ("record.of", ["Record of {name}", "Processo de {name}", "Historia de {name}"]),
    ("record.footer", ["Record summary · {name} · MRN {mrn} · printed {printed}", "Resumo do processo · {name} · N.º {mrn} · impresso {printed}", "Resumen de la historia · {name} · N.º {mrn} · impreso {printed}"]),
    ("record.title", ["Your health record", "O seu processo clínico", "Su historia clínica"]),
    ("record.estimated", ["{year} (estimated)", "{year} (estimado)", "{year} (estimado)"]),
    ("sex", ["Sex", "Sexo", "Sexo"]),
    ("national_id", ["National ID", "N.º de identificação", "Documento de identidad"]),
    ("email", ["Email", "E-mail", "Correo electrónico"]),
    ("address", ["Address", "Morada", "Dirección"]),
    ("emergency_contact", ["Emergency contact", "Contacto de emergência", "Contacto de emergencia"]),
    ("allergies", ["Allergies", "Alergias", "Alergias"]),
    ("conditions", ["Conditions", "Problemas de saúde", "Problemas de salud"]),
    ("blood_type", ["Blood type", "Grupo sanguíneo", "Grupo sanguíneo"]),
    ("record.documents", ["Signed documents", "Documentos assinados", "Documentos firmados"]),
    ("record.none_recorded", ["None recorded.", "Nada registado.", "Nada registrado."]),
    ("record.none", ["None.", "Nenhum.", "Ninguno."]),
    ("record.withheld", [
        "Not included: the account that made this copy may not read clinical data.",
        "Não incluído: a conta que fez esta cópia não pode ler dados clínicos.",
        "No incluido: la cuenta que hizo esta copia no puede leer datos clínicos.",
    ]),
    ("record.signed", ["Signed", "Assinado", "Firmado"]),
    ("record.document_file", ["Document and file", "Documento e ficheiro", "Documento y archivo"]),
    ("record.by", ["By", "Por", "Por"]),
    ("standing.current", ["Current", "Em vigor", "Vigente"]),
    ("standing.voided", ["Voided", "Anulado", "Anulado"]),
    ("standing.superseded", ["Replaced by a correction", "Substituído por uma correção", "Sustituido por una corrección"]),
    ("record.beside", [
        "Beside this summary: the same record in HL7 FHIR (the .json file, signed by the clinic), each signed document as its PDF (each carries its own signature and QR), and who accessed this record.",
        "Junto a este resumo: o mesmo processo em HL7 FHIR (o ficheiro .json, assinado pela clínica), cada documento assinado em PDF (cada um com a sua assinatura e QR) e quem acedeu a este processo.",
        "Junto a este resumen: la misma historia en HL7 FHIR (el archivo .json, firmado por la clínica), cada documento firmado en PDF (cada uno con su firma y su QR) y quién accedió a esta historia.",
    ]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_reads_as_the_paper_always_did() {
        let l = RxLine {
            medicament: "Amoxicillin 500 mg capsule".into(),
            dose: "500".into(),
            dose_unit: "mg".into(),
            route: "by mouth".into(),
            quantity: 21,
            frequency: 8,
            frequency_unit: "hours".into(),
            duration: 7,
            duration_period: "days".into(),
            ..Default::default()
        };
        let en = Words::EN.rx_line(&l);
        assert_eq!(en, "Amoxicillin 500 mg capsule — 500 mg by mouth every 8 hours for 7 days — Qty 21 — Refills 0");
        let pt = Words::of("pt").rx_line(&l);
        assert_eq!(
            pt,
            "Amoxicillin 500 mg capsule — 500 mg by mouth a cada 8 horas durante 7 dias — Qtd. 21 — Renovações 0"
        );
        let one =
            RxLine { frequency: 1, frequency_unit: "days".into(), duration: 1, duration_period: "weeks".into(), ..l };
        assert!(
            Words::of("es").rx_line(&one).contains("cada día durante 1 semana"),
            "{}",
            Words::of("es").rx_line(&one)
        );
        assert_eq!(Words::EN.day("2026-12-01"), "Tuesday 1 December 2026");
        assert_eq!(Words::of("pt").day("2026-12-01"), "terça-feira, 1 de dezembro de 2026");
        assert_eq!(Words::of("es").short_day("2026-12-08"), "mar 8 dic 2026");
        assert_eq!(Words::of("pt").value("pending_investigation"), "Em investigação");
        assert_eq!(Words::of("xx"), Words::EN, "an unknown language prints in English");
    }

    #[test]
    fn every_key_is_unique_and_every_text_fills_the_same_placeholders() {
        for table in [CATALOG, VALUES] {
            let mut keys: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
            keys.sort_unstable();
            let before = keys.len();
            keys.dedup();
            assert_eq!(keys.len(), before, "a key twice");
        }
        let names = |s: &str| {
            let mut found: Vec<String> =
                s.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned())).collect();
            found.sort();
            found
        };
        for (key, texts) in CATALOG {
            for t in &texts[1..] {
                let mut english = names(texts[0]);
                if *key == "document.footer" {
                    english.retain(|n| n != "title");
                }
                assert_eq!(names(t), english, "{key}: {t}");
                assert!(!t.is_empty(), "{key}");
            }
        }
    }
}
