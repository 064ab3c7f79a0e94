// Message catalogs: every user-facing string lives in en.json, pt.json and es.json under the same keys.
import en from "./en.json";
import pt from "./pt.json";
import es from "./es.json";
import { LANGUAGES, type BookingWarning, type Break, type KeyNote, type Language, type Problem, type Vouch, type Warning } from "../bindings";

export const catalogs: Record<string, Record<string, string>> = { en, pt, es };
// Each language named in itself; the type makes a new value of galen-core's `Language` list a compile error here.
const names: Record<Language, string> = { en: "English", pt: "Português", es: "Español" };
export const languages = LANGUAGES.map((code) => ({ code, name: names[code] }));

export const locale = $state({ current: "en" });

export function setLanguage(code: string) {
  if (code in catalogs) {
    locale.current = code;
    document.documentElement.lang = code;
  }
}

/** The message for `key` in the current language (English if missing), with `{name}` placeholders filled. */
export function t(key: string, params: Record<string, string | number> = {}): string {
  const text = catalogs[locale.current]?.[key] ?? catalogs.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? `{${name}}`));
}

/** The last sync's failure as a status shows it later: by its code where we have words (a busy partner's wait is
 * over by then), else Galen's own text. */
export function syncFailure(code: string | null, message: string): string {
  if (code === "partner_busy") return t("sync.busy_last");
  return code ? errorMessage({ code, message }) : message;
}

/** A translated message for an error from Rust: by its code where we have one, else its own text. */
export function errorMessage(e: { code: string; message: string; retryAfterSecs?: number | null }): string {
  const key = `error.${e.code}`;
  if (catalogs.en[key]) return t(key, { seconds: e.retryAfterSecs ?? 0, message: e.message });
  return e.message;
}

/** A prescribing warning in the reader's language. */
export function warningText(w: Warning): string {
  return w.kind === "allergy"
    ? t("documents.warning.allergy", { substance: w.substance, severity: t(`severity.${w.severity}`), medicament: w.medicament })
    : t("documents.warning.pregnancy");
}

/** What needs confirming about a booking, in the reader's language. */
export function bookingWarningText(w: BookingWarning): string {
  return t(`appt.warning.${w.kind}`, { ...w, date: day(w.date) });
}

/** A `YYYY-MM-DD` day as the reader's language writes it, with its weekday. */
export function day(date: string): string {
  const [y, m, d] = date.split("-").map(Number);
  if (!y || !m || !d) return date;
  return new Date(y, m - 1, d).toLocaleDateString(locale.current, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
}

/** Why a signature does not verify, in the reader's language. */
export function problemText(p: Problem): string {
  switch (p.kind) {
    case "badSignature":
      return t("documents.problem.badSignature", { detail: p.detail });
    case "keyRevoked":
      return t("documents.problem.keyRevoked", { at: when(p.detail.at), reason: p.detail.reason });
    default:
      return t(`documents.problem.${p.kind}`);
  }
}

/** What to know about a valid signature's key, in the reader's language. */
export function keyNoteText(n: KeyNote): string {
  return n.kind === "madeAfterReset"
    ? t("documents.key_note.madeAfterReset", { by: n.by, at: when(n.at) })
    : t("documents.key_note.revokedLater", { at: when(n.at), reason: n.reason });
}

/** What the sending clinic's trust list says about a received document's signer, in the reader's language. */
export function vouchText(v: Vouch, sender: string | null): string {
  const clinic = "clinic" in v ? v.clinic : (sender ?? t("documents.vouch.the_sender"));
  switch (v.kind) {
    case "revoked":
      return t("documents.vouch.revoked", { clinic, at: when(v.at), reason: v.reason });
    case "otherDoctor":
      return t("documents.vouch.otherDoctor", { clinic, name: v.name, licence: v.licence });
    default:
      return t(`documents.vouch.${v.kind}`, { clinic });
  }
}

/** A moment as the reader's language writes it (dates and times follow the chosen language, not the system's). */
export function when(rfc3339: string): string {
  return new Date(rfc3339).toLocaleString(locale.current, { dateStyle: "medium", timeStyle: "short" });
}

/** Where the audit chain breaks, in the reader's language. */
export function breakText(b: Break): string {
  switch (b.kind) {
    case "edited":
    case "inserted":
      return t(`audit.break.${b.kind}`, { row: b.row });
    case "deleted":
      return t(b.from === b.to ? "audit.break.deleted_one" : "audit.break.deleted", { from: b.from, to: b.to });
    case "reordered":
      return t("audit.break.reordered", { row: b.row, after: b.belongsAfter });
    case "truncated":
      return t("audit.break.truncated", { anchored: b.anchored, present: b.present });
    case "rewritten":
      return t("audit.break.rewritten", { row: b.row });
  }
}
