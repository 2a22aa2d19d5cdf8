//! `agentor replay <file|->`: a recording played through the layers of `chat`.

use agentor_core::{ChatRequest, Provider};
use agentor_providers::Replay;

use crate::args::ReplayArgs;
use crate::config::Config;
use crate::exit::Outcome;
use crate::interrupt::{stop, Interruptible};
use crate::render;

pub(crate) async fn run(args: ReplayArgs, config: Config) -> Outcome {
    let replay = if args.file.as_os_str() == "-" {
        Replay::from_reader(|| tokio::io::BufReader::new(tokio::io::stdin()))
    } else {
        Replay::open(args.file)
    };
    // No run id: the recorded ones stay.
    let run = replay
        .speed(args.speed)
        .stream(ChatRequest::new("replay", Vec::new()));
    let run = Box::pin(Interruptible::new(run, stop()));
    render::show(run, args.show, &config.chat).await
}
