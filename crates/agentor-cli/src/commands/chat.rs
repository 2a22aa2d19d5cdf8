//! `agentor chat "<prompt>"`: one agent run, streamed to stdout.

use agentor_core::{BoxEventStream, EventStreamExt};
use tokio::io::BufWriter;

use crate::args::ChatArgs;
use crate::config::Config;
use crate::exit::Outcome;
use crate::interrupt::{stop, Interruptible};
use crate::provider::ProviderChoice;
use crate::render;

pub(crate) async fn run(args: ChatArgs, config: Config) -> Outcome {
    let agent = ProviderChoice::resolve(args.provider, config.provider).agent(None);

    let run = Interruptible::new(agent.stream_chat(args.prompt).into_inner(), stop());
    // The recording is of the run as the provider made it (and as Ctrl-C
    // ended it): the layers shape what is shown, and a replay applies them again.
    let run: BoxEventStream = match &args.record {
        Some(path) => match tokio::fs::File::create(path).await {
            Ok(file) => Box::pin(run.record(BufWriter::new(file))),
            Err(err) => {
                return Outcome::Failed(format!(
                    "cannot create recording {}: {err}",
                    path.display()
                ))
            }
        },
        None => Box::pin(run),
    };
    render::show(run, args.show, &config.chat).await
}
