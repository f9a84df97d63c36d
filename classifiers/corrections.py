"""Document types clerks corrected in the review app, as extra training examples.

The review app writes one ``review_corrections`` row (kind ``doc_type``) per change; the newest
row per document is the clerk's final word. The text layer comes from the document's stored
file, through the same sha256-keyed text-layer cache the training uses, and is handed over
whole, so a corrected document trains with the same title and layout hints as a corpus file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from classifiers.textcache import Reader, TextLayerCache
from ledgerbot.core.domain import DocType
from textlayer.model import Document


def load_corrections(
    *,
    store: object | None = None,
    files_dir: Path | None = None,
    cache_dir: Path,
    reader: Reader | None = None,
    reader_name: str | None = None,
    log: Callable[[str], None] | None = None,
) -> list[tuple[Document, DocType]]:
    """(text layer, corrected type) for every readable document whose type a clerk corrected."""
    from sqlalchemy import select

    from ledgerbot.core.settings import get_settings
    from ledgerbot.core.store import FileStore, Store, get_store
    from ledgerbot.core.store.models import DocumentRow
    from ledgerbot.core.store.review import CorrectionRow

    say = log or (lambda _message: None)
    db = store if isinstance(store, Store) else get_store()
    file_store = FileStore(files_dir or get_settings().files_dir)
    if reader is None:
        from classifiers.corpus import default_reader

        reader, reader_name, _ = default_reader()
    cache = TextLayerCache(cache_dir, reader, reader_name or "reader")
    newest: dict[int, tuple[str, str]] = {}
    with db.session() as session:
        rows = session.execute(
            select(CorrectionRow.document_id, CorrectionRow.new_value, DocumentRow.sha256)
            .join(DocumentRow, DocumentRow.id == CorrectionRow.document_id)
            .where(CorrectionRow.kind == "doc_type")
            .order_by(CorrectionRow.id)
        ).all()
    for document_id, new_value, sha256 in rows:
        newest[document_id] = (str(new_value), sha256)  # later rows overwrite: the final word
    examples: list[tuple[Document, DocType]] = []
    for document_id, (value, sha256) in sorted(newest.items()):
        try:
            doc_type = DocType(value)
        except ValueError:
            say(f"document {document_id}: correction {value!r} is not a document type; skipped")
            continue
        document = cache.lookup(sha256)
        if document is None:
            path = file_store.path_for(sha256)
            if not path.is_file():
                say(f"document {document_id}: stored file {sha256[:12]} is missing; skipped")
                continue
            try:
                document = reader(path)
            except Exception as error:  # one unreadable file must not stop the retraining
                say(f"document {document_id}: unreadable ({error}); skipped")
                continue
            cache.put(sha256, document)
        if not any(page.words for page in document.pages):
            say(f"document {document_id}: no text on any page; skipped")
            continue
        document.source = f"sha256:{sha256}"
        examples.append((document, doc_type))
    return examples
