// How a document another site sent stands, in one word for a list: its signature checks and its clinic vouches
// for the signer (and it names this chart's patient), or it is only signed, or it does not verify.
import type { ReceivedDocumentDto } from "./bindings";
import { t } from "./i18n/i18n.svelte";

export function trusted(r: ReceivedDocumentDto): boolean {
  return !r.problem && r.vouch.kind === "vouched" && !r.filedUnderOther;
}

export function verdict(r: ReceivedDocumentDto): string {
  return r.problem ? t("documents.not_verified") : trusted(r) ? t("documents.signed") : t("documents.not_vouched");
}
