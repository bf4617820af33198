"""Chunking: exact offsets, sentence boundaries, target sizes."""

from memory import approx_tokens, chunk_text, extractive_summary, split_sentences

PROSE = (
    "Kentucky Tavern is a brand of straight bourbon whiskey. It is produced by the Sazerac Company. "
    "Dr. Smith visited the R. Monarch Distillery in 1901. The distillery was renamed Glenmore.\n\n"
    "A second paragraph starts here. It talks about Owensboro, Kentucky! Does it end? Yes.\n\n"
    "Third paragraph, one sentence only, fairly short."
)


def test_every_chunk_is_an_exact_span_of_the_page():
    text = PROSE * 5
    chunks = chunk_text(text, target_tokens=40)
    assert len(chunks) > 3
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.tokens == approx_tokens(c.text)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))


def test_chunks_end_on_sentence_boundaries_and_respect_the_target():
    chunks = chunk_text(PROSE, target_tokens=30)
    for c in chunks:
        assert c.text.rstrip()[-1] in ".!?", c.text
        assert c.tokens <= 30
    assert not any(c.text.startswith("Smith") or c.text.startswith("Monarch") for c in chunks)  # "Dr." and "R." are not ends


def test_a_sentence_longer_than_a_chunk_is_cut_between_words():
    text = "word " * 300 + "end."
    chunks = chunk_text(text, target_tokens=50)
    assert len(chunks) >= 6
    assert all(c.tokens <= 50 for c in chunks)
    assert all(not c.text.startswith(" ") and not c.text.endswith(" ") for c in chunks)
    assert "".join(text[c.start : c.end] for c in chunks).replace(" ", "") == text.replace(" ", "")


def test_the_target_size_is_configurable_and_the_counter_swappable():
    small = chunk_text(PROSE * 4, target_tokens=30)
    large = chunk_text(PROSE * 4, target_tokens=300)
    assert len(small) > len(large) >= 1
    by_chars = chunk_text(PROSE * 4, target_tokens=200, count=len)
    assert all(c.tokens == len(c.text) for c in by_chars)


def test_empty_text_has_no_chunks():
    assert chunk_text("") == [] and chunk_text("  \n\n ") == []


def test_extractive_summary_has_title_lead_and_salient_terms():
    summary = extractive_summary("Kentucky Tavern", PROSE)
    title, lead, terms = summary.split(" | ")
    assert title == "Kentucky Tavern"
    assert lead == "Kentucky Tavern is a brand of straight bourbon whiskey."
    assert "distillery" in terms.split()


def test_a_sentence_keeps_its_closing_quote_and_a_title_or_initial_ends_none():
    """One rule cuts sentences for chunks and for the evidence under an answer: the closing
    quote stays with its sentence, and "Capt.", "c. 1508", "J. R. R." do not end one."""
    text = 'It was done. He said "Cut." Capt. Smith sailed in c. 1508 with Rev. Jones. J. R. R. Tolkien wrote it.'
    assert split_sentences(text) == [
        "It was done.", 'He said "Cut."', "Capt. Smith sailed in c. 1508 with Rev. Jones.", "J. R. R. Tolkien wrote it."]
    chunks = chunk_text(text, target_tokens=9, count=lambda t: len(t.split()))  # a word a token: a chunk ends at 9
    assert [c.text for c in chunks][:2] == ['It was done. He said "Cut."', "Capt. Smith sailed in c. 1508 with Rev. Jones."]
    assert not any(c.text.startswith(("Smith", "1508", "Jones", "R.", "Tolkien")) for c in chunks)

