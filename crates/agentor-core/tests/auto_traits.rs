//! Every public type can cross threads; streams are `Unpin` when their input is.

#![allow(missing_docs)]

use agentor_core::ops::{batch, filter, merge, progress, rebuffer, record, tap, timeout};
use agentor_core::source::{Iter, Script, Scripted};
use agentor_core::wire::{native, DecodeError, Format};
use agentor_core::*;

fn send_sync<T: Send + Sync>() {}
fn send_sync_unpin<T: Send + Sync + Unpin>() {}
fn send_unpin<T: Send + Unpin>() {}

type Input = futures::stream::Iter<std::vec::IntoIter<EventResult>>;
type Observe = fn(&EventResult);

#[test]
fn values_are_send_and_sync() {
    send_sync_unpin::<Event>();
    send_sync_unpin::<EventKind>();
    send_sync_unpin::<Kind>();
    send_sync_unpin::<KindSet>();
    send_sync_unpin::<ErrorKind>();
    send_sync_unpin::<RunStatus>();
    send_sync_unpin::<ProgressSnapshot>();
    send_sync_unpin::<Error>();
    send_sync_unpin::<Text>();
    send_sync_unpin::<UnknownName>();
    send_sync_unpin::<DecodeError>();
    send_sync_unpin::<Format>();
    send_sync_unpin::<Script>();
}

#[test]
fn layers_and_handles_are_send_and_sync() {
    send_sync_unpin::<FilterLayer>();
    send_sync_unpin::<Boundary>();
    send_sync_unpin::<RebufferLayer>();
    send_sync_unpin::<BatchLayer>();
    send_sync_unpin::<TimeoutLayer>();
    send_sync_unpin::<ProgressLayer>();
    send_sync_unpin::<ProgressHandle>();
    send_sync_unpin::<MergeHandle>();
    send_sync_unpin::<MergeLayer>();
    send_sync_unpin::<FailurePolicy>();
    send_sync_unpin::<tap::TapLayer<Observe>>();
    send_sync_unpin::<record::RecordLayer<fn() -> Vec<u8>>>();
    send_sync_unpin::<Pipeline<tower_layer::Stack<tower_layer::Identity, FilterLayer>>>();
}

#[test]
fn streams_are_send_sync_and_unpin_over_such_input() {
    send_sync_unpin::<filter::Filter<Input>>();
    send_sync_unpin::<rebuffer::Rebuffer<Input>>();
    send_sync_unpin::<batch::Batch<Input>>();
    send_sync_unpin::<timeout::Timeout<Input>>();
    send_sync_unpin::<progress::Progress<Input>>();
    send_sync_unpin::<tap::Tap<Input, Observe>>();
    send_sync_unpin::<record::Record<Input, Vec<u8>>>();
    send_sync_unpin::<Iter<std::vec::IntoIter<Event>>>();
    send_sync_unpin::<Scripted>();
    send_sync_unpin::<native::JsonLines<tokio::io::BufReader<tokio::io::Empty>>>();
    // Merge holds boxed `Send` sources, which need not be `Sync`.
    send_unpin::<merge::Merge>();
    send_unpin::<BoxEventStream>();
    send_sync::<merge::MergeClosed<Input>>();
}
