// Message catalogs: every user-facing string lives in en.json, pt.json and es.json under the same keys.
import en from "./en.json";
import pt from "./pt.json";
import es from "./es.json";

export const catalogs: Record<string, Record<string, string>> = { en, pt, es };
export const languages = [
  { code: "en", name: "English" },
  { code: "pt", name: "Português" },
  { code: "es", name: "Español" },
];

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

/** A translated message for an error from Rust: by its code where we have one, else its own text. */
export function errorMessage(e: { code: string; message: string; retry_after_secs?: number | null }): string {
  const key = `error.${e.code}`;
  if (catalogs.en[key]) return t(key, { seconds: e.retry_after_secs ?? 0, message: e.message });
  return e.message;
}
