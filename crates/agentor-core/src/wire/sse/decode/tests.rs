#![allow(clippy::unwrap_used)]

use super::*;

/// What a decoder makes of `pieces`, pushed one at a time and drained after
/// each: the events, then the first error (from `next_event` or `finish`).
fn decode_pieces(decoder: Decoder, pieces: &[&[u8]]) -> (Vec<SseEvent>, Option<SseError>) {
    let mut decoder = decoder;
    let mut events = Vec::new();
    for piece in pieces {
        decoder.push(Bytes::copy_from_slice(piece));
        loop {
            match decoder.next_event() {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break,
                Err(err) => return (events, Some(err)),
            }
        }
    }
    (events, decoder.finish().err())
}

fn decode(body: &str) -> Vec<SseEvent> {
    let (events, err) = decode_pieces(Decoder::new(), &[body.as_bytes()]);
    assert_eq!(err, None, "{body:?}");
    events
}

/// `(event, data, id)` of each event, for short assertions.
fn triples(events: &[SseEvent]) -> Vec<(&str, &str, Option<&str>)> {
    events
        .iter()
        .map(|e| (e.event.as_str(), e.data.as_str(), e.id.as_deref()))
        .collect()
}

fn data(body: &str) -> Vec<String> {
    decode(body).into_iter().map(|e| e.data.into()).collect()
}

#[test]
fn a_byte_order_mark_at_the_start_is_skipped_once() {
    assert_eq!(data("\u{feff}data: a\n\n"), ["a"]);
    // A second one is part of the field name, which is then unknown.
    assert_eq!(data("\u{feff}\u{feff}data: a\n\ndata: b\n\n"), ["b"]);
    // Only at the very start of the body.
    assert_eq!(data("data: a\n\n\u{feff}data: b\n\n"), ["a"]);
    // Also when the mark arrives a byte at a time.
    let (events, err) = decode_pieces(
        Decoder::new(),
        &[b"\xEF", b"\xBB", b"\xBF", b"data: x\n", b"\n"],
    );
    assert_eq!((triples(&events), err), (vec![("", "x", None)], None));
}

#[test]
fn cr_lf_and_crlf_all_end_lines() {
    assert_eq!(
        data("data: a\r\rdata: b\n\ndata: c\r\n\r\n"),
        ["a", "b", "c"]
    );
    assert_eq!(data("data: a\rdata: b\r\r"), ["a\nb"]);
    assert_eq!(data("data: a\n\rdata: b\r\n\n"), ["a", "b"]);
}

#[test]
fn a_crlf_split_across_chunks_is_one_line_end() {
    let (events, err) = decode_pieces(
        Decoder::new(),
        &[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"],
    );
    assert_eq!(err, None);
    assert_eq!(triples(&events), [("", "a\nb", None)]);
    // A CR ending a chunk ends its line at once: the event need not wait.
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from_static(b"data: a\r\r"));
    assert_eq!(decoder.next_event().unwrap().unwrap().data, "a");
}

#[test]
fn comments_and_unknown_fields_are_ignored() {
    assert_eq!(
        data(": hello\ndata: a\n:data: b\nfoo: bar\nData: c\ndata : d\n\n"),
        ["a"]
    );
    // A comment alone dispatches nothing.
    assert_eq!(
        data(": keep-alive\n\n: keep-alive\n\n"),
        Vec::<String>::new()
    );
}

#[test]
fn a_line_without_colon_is_a_name_with_an_empty_value() {
    assert_eq!(data("data\n\n"), [""]);
    assert_eq!(data("data\ndata\n\n"), ["\n"]);
    assert_eq!(
        triples(&decode("id: 3\nevent: x\nid\nevent\ndata: a\n\n")),
        [("", "a", None)]
    );
}

#[test]
fn one_space_after_the_colon_is_removed() {
    assert_eq!(
        data("data:a\n\ndata: a\n\ndata:  a \n\ndata:\ta\n\n"),
        ["a", "a", " a ", "\ta"]
    );
    assert_eq!(data("data:: x\n\n"), [": x"]);
}

#[test]
fn data_lines_are_joined_and_the_last_event_name_wins() {
    assert_eq!(
        triples(&decode("event: a\ndata: 1\nevent: b\ndata:\ndata: 3\n\n")),
        [("b", "1\n\n3", None)]
    );
    // An empty data line still makes an event.
    assert_eq!(triples(&decode("data:\n\n")), [("", "", None)]);
}

#[test]
fn the_event_type_resets_after_each_blank_line() {
    assert_eq!(
        triples(&decode(
            "event: a\ndata: 1\n\ndata: 2\n\nevent: b\n\ndata: 3\n\n"
        )),
        [("a", "1", None), ("", "2", None), ("", "3", None)]
    );
}

#[test]
fn ids_persist_and_one_containing_nul_is_ignored() {
    let body = "id: 1\ndata: a\n\ndata: b\n\nid: 2\u{0}\ndata: c\n\nid\ndata: d\n\nid: 4\n\n";
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from(body));
    let mut seen = Vec::new();
    while let Some(event) = decoder.next_event().unwrap() {
        seen.push(event);
    }
    decoder.finish().unwrap();
    assert_eq!(
        triples(&seen),
        [
            ("", "a", Some("1")),
            ("", "b", Some("1")),
            ("", "c", Some("1")),
            ("", "d", None),
        ]
    );
    // A blank line sets the last event ID even when no event is dispatched.
    assert_eq!(decoder.last_event_id().map(Text::as_str), Some("4"));
}

#[test]
fn an_unfinished_event_does_not_move_the_last_event_id() {
    let (events, err) = decode_pieces(Decoder::new(), &[b"id: 1\ndata: a\n\nid: 2\ndata: b\n"]);
    assert_eq!((triples(&events), err), (vec![("", "a", Some("1"))], None));
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from_static(b"id: 1\ndata: a\n\nid: 2\ndata: b\n"));
    decoder.next_event().unwrap();
    assert_eq!(decoder.next_event().unwrap(), None);
    decoder.finish().unwrap();
    assert_eq!(decoder.last_event_id().map(Text::as_str), Some("1"));
}

#[test]
fn retry_counts_only_ascii_digits() {
    let mut decoder = Decoder::new();
    assert_eq!(decoder.retry(), None);
    for (line, expect) in [
        ("retry: 1500\n", Some(1500)),
        ("retry: 15x\n", Some(1500)),
        ("retry: +20\n", Some(1500)),
        ("retry: -20\n", Some(1500)),
        ("retry:\n", Some(1500)),
        ("retry: 1 0\n", Some(1500)),
        ("retry:0\n", Some(0)),
        ("retry: 99999999999999999999999\n", Some(u64::MAX)),
    ] {
        decoder.push(Bytes::from(line));
        assert_eq!(decoder.next_event().unwrap(), None);
        assert_eq!(
            decoder.retry(),
            expect.map(Duration::from_millis),
            "{line:?}"
        );
    }
}

#[test]
fn a_last_event_without_a_blank_line_is_dropped() {
    assert_eq!(data("data: a\n\ndata: b\n"), ["a"]);
    assert_eq!(data("data: a\n\ndata: b"), ["a"]);
    assert_eq!(data("data: a"), Vec::<String>::new());
}

#[test]
fn events_after_finish_can_still_be_taken() {
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from_static(b"data: a\n\ndata: b\n\ndata: c"));
    decoder.finish().unwrap();
    decoder.push(Bytes::from_static(b"\n\n"));
    assert_eq!(decoder.next_event().unwrap().unwrap().data, "a");
    assert_eq!(decoder.next_event().unwrap().unwrap().data, "b");
    assert_eq!(decoder.next_event().unwrap(), None);
}

#[test]
fn a_data_value_within_one_chunk_is_not_copied() {
    let chunk = Bytes::from_static(b"event: delta\ndata: {\"text\":\"Hel\"}\n\n");
    let mut decoder = Decoder::new();
    decoder.push(chunk.clone());
    let event = decoder.next_event().unwrap().unwrap();
    let at = chunk.len() - "{\"text\":\"Hel\"}\n\n".len();
    assert_eq!(event.data.as_bytes().as_ptr(), chunk[at..].as_ptr());
    assert_eq!(event.event.as_bytes().as_ptr(), chunk[7..].as_ptr());
}

#[test]
fn invalid_utf8_is_reported_with_its_offset() {
    let (events, err) = decode_pieces(Decoder::new(), &[b"data: a\n\ndata: b\xFFc\n\n"]);
    assert_eq!(triples(&events), [("", "a", None)]);
    assert_eq!(err, Some(SseError::InvalidUtf8 { offset: 16 }));
    // In a comment, an unknown field, a name, an id: everywhere.
    for body in [
        &b": \xC3(\n"[..],
        b"foo: \xFF\n",
        b"da\xFFta: x\n",
        b"id: \xE2\x82\n",
        b"event: \x80\n",
        b"retry: 1\xFF\n",
    ] {
        let (_, err) = decode_pieces(Decoder::new(), &[body]);
        assert!(
            matches!(err, Some(SseError::InvalidUtf8 { .. })),
            "{body:?}"
        );
    }
    // The offset counts the byte order mark.
    let (_, err) = decode_pieces(Decoder::new(), &[b"\xEF\xBB\xBFdata: \xFF\n"]);
    assert_eq!(err, Some(SseError::InvalidUtf8 { offset: 9 }));
}

#[test]
fn invalid_utf8_in_an_unterminated_line_is_reported_as_soon_as_it_arrives() {
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from_static(b"data: ok\n\ndata: caf"));
    assert_eq!(decoder.next_event().unwrap().unwrap().data, "ok");
    assert_eq!(decoder.next_event().unwrap(), None);
    // A character cut by the chunk boundary is not an error...
    decoder.push(Bytes::from_static(b"\xC3"));
    assert_eq!(decoder.next_event().unwrap(), None);
    decoder.push(Bytes::from_static(b"\xA9 "));
    assert_eq!(decoder.next_event().unwrap(), None);
    // ...but a byte that can never be UTF-8 is, before its line ends.
    decoder.push(Bytes::from_static(b"\xFF"));
    let err = SseError::InvalidUtf8 { offset: 22 };
    assert_eq!(decoder.next_event(), Err(err.clone()));
    // And it stays the answer.
    decoder.push(Bytes::from_static(b"\n\ndata: x\n\n"));
    assert_eq!(decoder.next_event(), Err(err.clone()));
    assert_eq!(decoder.finish(), Err(err));
}

#[test]
fn a_body_ending_inside_a_character_is_invalid() {
    let (events, err) = decode_pieces(Decoder::new(), &[b"data: a\n\ndata: \xE2\x82"]);
    assert_eq!(triples(&events), [("", "a", None)]);
    assert_eq!(err, Some(SseError::InvalidUtf8 { offset: 15 }));
    // Also when finish comes before the bytes were parsed.
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from_static(b"data: a\n\n"));
    decoder.push(Bytes::from_static(b"\xEF\xBB"));
    assert_eq!(decoder.finish(), Err(SseError::InvalidUtf8 { offset: 9 }));
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from_static(b"\xEF\xBB"));
    assert_eq!(decoder.finish(), Err(SseError::InvalidUtf8 { offset: 0 }));
    // A valid unterminated tail is only dropped.
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from_static(b"data: \xE2\x82\xAC"));
    assert_eq!(decoder.next_event(), Ok(None));
    assert_eq!(decoder.finish(), Ok(()));
}

#[test]
fn an_event_larger_than_the_bound_is_an_error() {
    let limit = SseError::TooLarge { limit: 16 };
    // Within the bound, line ends not counted.
    assert_eq!(
        decode_pieces(
            Decoder::new().max_event_bytes(16),
            &[b"data: 0123456789\n\n"]
        ),
        (
            vec![SseEvent {
                event: Text::new(),
                data: Text::from("0123456789"),
                id: None
            }],
            None
        )
    );
    // One line over.
    let (_, err) = decode_pieces(
        Decoder::new().max_event_bytes(16),
        &[b"data: 0123456789a\n\n"],
    );
    assert_eq!(err, Some(limit.clone()));
    // Several lines over, each small.
    let (_, err) = decode_pieces(
        Decoder::new().max_event_bytes(16),
        &[b"data: 0123\ndata: 4567\n\n"],
    );
    assert_eq!(err, Some(limit.clone()));
    // The bound is per event, not per body.
    let body = b"data: 0123\n\ndata: 4567\n\ndata: 89ab\n\n";
    let (events, err) = decode_pieces(Decoder::new().max_event_bytes(16), &[body]);
    assert_eq!((events.len(), err), (3, None));
    // An unterminated line is refused before it is buffered past the bound.
    let mut decoder = Decoder::new().max_event_bytes(16);
    decoder.push(Bytes::from_static(b"data: 01234"));
    assert_eq!(decoder.next_event(), Ok(None));
    decoder.push(Bytes::from(vec![b'x'; 1 << 20]));
    assert_eq!(decoder.next_event(), Err(limit.clone()));
    assert_eq!(decoder.finish(), Err(limit));
}

#[test]
fn the_error_converts_to_a_protocol_error() {
    let err = Error::from(SseError::TooLarge { limit: 8 });
    assert_eq!(err.kind(), crate::ErrorKind::Protocol);
    assert_eq!(err.message(), "an SSE event exceeds 8 bytes");
    let err = Error::from(SseError::InvalidUtf8 { offset: 3 });
    assert_eq!(
        err.message(),
        "the event stream is not valid UTF-8 (byte 3)"
    );
}

#[test]
fn defaults() {
    let decoder = Decoder::default();
    assert_eq!(decoder.max_event_bytes, 8 * 1024 * 1024);
    assert_eq!((decoder.last_event_id(), decoder.retry()), (None, None));
}

mod properties {
    use eventsource_stream::Eventsource;
    use futures::StreamExt;
    use proptest::prelude::*;

    use super::*;

    /// Pieces SSE bodies are made of, the awkward ones included: every line
    /// end, BOMs, NULs, colons, spaces, multi-byte and cut characters, and
    /// bytes that are never UTF-8.
    const TOKENS: &[&[u8]] = &[
        b"data",
        b"data:",
        b"data: ",
        b"event:",
        b"event: x",
        b"id:",
        b"id: 7",
        b"retry:",
        b"retry: 10",
        b"foo",
        b":",
        b": ",
        b" ",
        b"\n",
        b"\n",
        b"\r",
        b"\r\n",
        b"\n\n",
        b"a",
        b"b1",
        b"{\"x\":1}",
        b"\xEF\xBB\xBF",
        b"\0",
        b"\xC3\xA9",
        b"\xF0\x9F\x98\x80",
        b"\xE2\x82",
        b"\xFF",
        b"\x80",
    ];

    fn body(valid_only: bool) -> impl Strategy<Value = Vec<u8>> {
        let tokens: Vec<&'static [u8]> = TOKENS
            .iter()
            .copied()
            .filter(|t| !valid_only || std::str::from_utf8(t).is_ok())
            .collect();
        prop::collection::vec(prop::sample::select(tokens), 0..48).prop_map(|t| t.concat())
    }

    /// `body` cut at `cuts` (taken modulo its length).
    fn split(body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut at: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        at.push(0);
        at.push(body.len());
        at.sort_unstable();
        at.dedup();
        at.windows(2).map(|w| body[w[0]..w[1]].to_vec()).collect()
    }

    fn decode_chunks(decoder: Decoder, chunks: &[Vec<u8>]) -> (Vec<SseEvent>, Option<SseError>) {
        let pieces: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        decode_pieces(decoder, &pieces)
    }

    /// `(event, data, id)` as eventsource-stream reports them, and whether it
    /// failed. Ours reports an unnamed event as `""` and no id as `None`; it
    /// reports them as `message` and `""`.
    type Reference = (Vec<(String, String, String)>, bool);

    fn reference(chunks: &[Vec<u8>]) -> Reference {
        let items: Vec<Result<Vec<u8>, std::convert::Infallible>> =
            chunks.iter().cloned().map(Ok).collect();
        futures::executor::block_on(async {
            let mut stream = futures::stream::iter(items).eventsource();
            let mut events = Vec::new();
            while let Some(item) = stream.next().await {
                match item {
                    Ok(e) => events.push((e.event, e.data, e.id)),
                    Err(_) => return (events, true),
                }
            }
            (events, false)
        })
    }

    fn ours_as_reference(chunks: &[Vec<u8>]) -> Reference {
        let (events, err) = decode_chunks(Decoder::new(), chunks);
        let events = events
            .into_iter()
            .map(|e| {
                let name = if e.event.is_empty() {
                    "message".into()
                } else {
                    e.event.into()
                };
                (
                    name,
                    e.data.into(),
                    e.id.map(String::from).unwrap_or_default(),
                )
            })
            .collect();
        (events, err.is_some())
    }

    /// The input eventsource-stream gets, without the two cases where it
    /// departs from the standard (each tested on its own above):
    ///
    /// - a body starting with a byte order mark makes it panic (it slices
    ///   the 3-byte mark off as if it were 1 byte), so it gets the body
    ///   without the mark, which is what the standard reads, and no body at
    ///   all (`None`) when a second mark follows;
    /// - a CR that ends the body (or its UTF-8 part, where it stops reading)
    ///   ends its line, where it waits for a possible LF forever and so drops
    ///   the last event; adding that LF changes nothing for a decoder that
    ///   follows the standard.
    fn for_reference(mut chunks: Vec<Vec<u8>>) -> Option<Vec<Vec<u8>>> {
        if chunks.concat().starts_with(BOM) {
            let mut skip = BOM.len();
            for chunk in &mut chunks {
                let n = skip.min(chunk.len());
                chunk.drain(..n);
                skip -= n;
            }
            chunks.retain(|c| !c.is_empty());
            if chunks.concat().starts_with(BOM) {
                return None;
            }
        }
        let body = chunks.concat();
        let valid = std::str::from_utf8(&body).map_or_else(|e| e.valid_up_to(), str::len);
        if valid > 0 && body[valid - 1] == b'\r' {
            let mut offset = 0;
            for chunk in &mut chunks {
                if offset + chunk.len() >= valid {
                    chunk.insert(valid - offset, b'\n');
                    break;
                }
                offset += chunk.len();
            }
        }
        Some(chunks)
    }

    fn assert_same_as_reference(chunks: Vec<Vec<u8>>) {
        let Some(input) = for_reference(chunks.clone()) else {
            return;
        };
        assert_eq!(ours_as_reference(&chunks), reference(&input), "{chunks:?}");
    }

    #[test]
    fn agrees_with_eventsource_stream_on_adversarial_bodies() {
        let bodies: &[&[u8]] = &[
            b"data: a\r",
            b"data: a\r\r",
            b"data: a\r\n\r\n",
            b"data: a\n\r\ndata: b\r\n\n",
            b"\xEF\xBB\xBFdata: bom\n\n",
            b"\xEF\xBB\xBF\xEF\xBB\xBFdata: two boms\n\ndata: x\n\n",
            b"data: a\n\n\xEF\xBB\xBFdata: late bom\n\ndata: y\n\n",
            b"id: 1\ndata: a\n\nid: 2\0\ndata: b\n\nid\ndata: c\n\n",
            b"event: a\n\ndata: reset\n\n",
            b"event: a\nevent: b\ndata: 1\ndata:\ndata:  2 \n\n",
            b": comment\n:\ndata\n\nfoo: bar\ndata::\n\n",
            b"data: caf\xC3\xA9 \xF0\x9F\x98\x80\n\n",
            b"data: a\n\ndata: \xFF\n\ndata: c\n\n",
            b"data: a\n\ndata: \xE2\x82",
            b"data: a\n\n\x80",
            b"retry: 10\ndata: a\n\nretry: x\n\n",
            b"data: a\n\ndata: unterminated",
            b"\n\n\r\r\r\n",
            b"",
        ];
        for body in bodies {
            for size in [1, 2, 3, 5, 7, body.len().max(1)] {
                assert_same_as_reference(body.chunks(size).map(<[u8]>::to_vec).collect());
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_with_eventsource_stream(body in body(false), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
            assert_same_as_reference(split(&body, &cuts));
        }

        #[test]
        fn any_chunking_decodes_the_same(body in body(false), cuts in prop::collection::vec(any::<usize>(), 0..12)) {
            let whole = decode_chunks(Decoder::new(), std::slice::from_ref(&body));
            let chunked = decode_chunks(Decoder::new(), &split(&body, &cuts));
            prop_assert_eq!(&chunked, &whole);
            let bytewise: Vec<Vec<u8>> = body.iter().map(|b| vec![*b]).collect();
            prop_assert_eq!(&decode_chunks(Decoder::new(), &bytewise), &whole);
        }

        #[test]
        fn any_chunking_of_a_bounded_decoder_decodes_the_same(
            body in body(true),
            cuts in prop::collection::vec(any::<usize>(), 0..12),
            limit in 0usize..40,
        ) {
            let whole = decode_chunks(Decoder::new().max_event_bytes(limit), std::slice::from_ref(&body));
            let chunked = decode_chunks(Decoder::new().max_event_bytes(limit), &split(&body, &cuts));
            prop_assert_eq!(chunked, whole);
        }

        #[test]
        fn never_panics(
            body in prop::collection::vec(any::<u8>(), 0..256),
            cuts in prop::collection::vec(any::<usize>(), 0..12),
            limit in 0usize..64,
        ) {
            let chunks = split(&body, &cuts);
            let (events, err) = decode_chunks(Decoder::new().max_event_bytes(limit), &chunks);
            for event in &events {
                prop_assert!(event.data.len() <= limit);
            }
            if let Some(SseError::InvalidUtf8 { offset }) = err {
                prop_assert!(offset < body.len() as u64);
                prop_assert!(std::str::from_utf8(&body[..offset as usize]).is_ok()
                    || std::str::from_utf8(&body).is_err());
            }
        }
    }
}

mod stream {
    use futures::StreamExt;

    use super::*;

    #[derive(Debug, PartialEq)]
    enum Failure {
        Body(&'static str),
        Sse(SseError),
    }

    impl From<SseError> for Failure {
        fn from(err: SseError) -> Self {
            Failure::Sse(err)
        }
    }

    fn run(items: Vec<Result<&'static [u8], Failure>>) -> Vec<Result<String, Failure>> {
        let body = futures::stream::iter(items).map(|item| item.map(Bytes::from_static));
        futures::executor::block_on(
            SseStream::new(body)
                .map(|event| event.map(|e| String::from(e.data)))
                .collect(),
        )
    }

    #[test]
    fn yields_the_events_of_the_body_and_drops_an_unfinished_one() {
        let out = run(vec![
            Ok(b"data: a\n\nda"),
            Ok(b"ta: b\r"),
            Ok(b"\n\r\ndata: c"),
        ]);
        assert_eq!(out, [Ok("a".to_owned()), Ok("b".to_owned())]);
    }

    #[test]
    fn a_body_error_is_yielded_once_and_ends_the_stream() {
        let out = run(vec![
            Ok(b"data: a\n\n"),
            Err(Failure::Body("reset")),
            Ok(b"data: b\n\n"),
        ]);
        assert_eq!(out, [Ok("a".to_owned()), Err(Failure::Body("reset"))]);
    }

    #[test]
    fn a_decoding_error_is_yielded_once_and_ends_the_stream() {
        let out = run(vec![Ok(b"data: a\n\ndata: \xFF\n\n"), Ok(b"data: b\n\n")]);
        assert_eq!(
            out,
            [
                Ok("a".to_owned()),
                Err(Failure::Sse(SseError::InvalidUtf8 { offset: 15 }))
            ]
        );
        let out = run(vec![Ok(b"data: a\n\ndata: \xE2\x82")]);
        assert_eq!(
            out,
            [
                Ok("a".to_owned()),
                Err(Failure::Sse(SseError::InvalidUtf8 { offset: 15 }))
            ]
        );
    }

    #[test]
    fn the_decoder_state_stays_readable() {
        let body = futures::stream::iter([Ok::<_, SseError>(Bytes::from_static(
            b"retry: 250\nid: 9\ndata: x\n\n",
        ))]);
        let mut stream = SseStream::new(body);
        let event = futures::executor::block_on(stream.next()).unwrap().unwrap();
        assert_eq!(event.id.as_deref(), Some("9"));
        assert_eq!(
            stream.decoder().last_event_id().map(Text::as_str),
            Some("9")
        );
        assert_eq!(stream.decoder().retry(), Some(Duration::from_millis(250)));
        assert!(futures::executor::block_on(stream.next()).is_none());
    }
}
