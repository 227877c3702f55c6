/**
 * Language tags and names for audio and subtitle renditions. Containers store ISO 639-2 codes
 * (`eng`, `fre`); HLS LANGUAGE and DASH `lang` want RFC 5646, which uses the shortest code (`en`).
 */

/** The canonical RFC 5646 tag for a container's language tag; null for none, `und` or junk. */
export function languageTag(tag: string | undefined): string | null {
  const text = tag?.trim();
  if (!text || /^(und|unk|mis|zxx|mul)$/i.test(text)) return null;
  try {
    return Intl.getCanonicalLocales(text)[0] ?? null;
  } catch {
    return null;
  }
}

/** A rendition's NAME: its title tag, else the language in English, else a numbered default. */
export function renditionLabel(
  stream: { language?: string | null; title?: string | null },
  position: number,
  kind = 'Audio',
): string {
  if (stream.title) return stream.title;
  if (stream.language) {
    const name = new Intl.DisplayNames(['en'], { type: 'language' }).of(stream.language);
    if (name && name !== stream.language) return name;
  }
  return position === 0 ? kind : `${kind} ${position + 1}`;
}
