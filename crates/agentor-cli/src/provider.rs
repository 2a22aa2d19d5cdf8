//! The provider flags (and `[provider]` defaults) as an agent's provider.

use std::sync::Arc;
use std::time::Duration;

use agentor::{Agentor, Tool};
use agentor_core::Provider;
use agentor_providers::{
    Anthropic, AnthropicConfig, Demo, EnvChoice, OpenAiChat, OpenAiConfig, OpenAiResponses,
};

use crate::args::{ProviderArgs, ProviderKind};
use crate::config::ProviderConfig;

/// The provider settings after flags, environment and file were merged.
#[derive(Debug)]
pub(crate) struct ProviderChoice {
    kind: ProviderKind,
    /// Whether the user named the provider (else it is announced).
    named: bool,
    model: Option<String>,
    base_url: Option<String>,
    instructions: Option<String>,
    read_timeout: Option<Duration>,
    /// The demo's pace, when not its default (`serve --demo-delay-ms`).
    demo_delay: Option<Duration>,
}

impl ProviderChoice {
    /// Flags (and their environment variables) first, then the file; with no
    /// provider named, `openai-chat` when a base URL or `OPENAI_API_KEY` /
    /// `OPENAI_BASE_URL` is set, else `anthropic` when `ANTHROPIC_API_KEY`
    /// is set, else the offline demo.
    pub(crate) fn resolve(args: ProviderArgs, file: ProviderConfig) -> Self {
        let base_url = args.base_url.or(file.base_url);
        let named = args.provider.or(file.kind);
        let kind = named.unwrap_or_else(|| match EnvChoice::detect() {
            _ if base_url.is_some() => ProviderKind::OpenaiChat,
            EnvChoice::OpenAiChat => ProviderKind::OpenaiChat,
            EnvChoice::Anthropic => ProviderKind::Anthropic,
            _ => ProviderKind::Demo,
        });
        ProviderChoice {
            kind,
            named: named.is_some(),
            model: args.model.or(file.model),
            base_url,
            instructions: args.instructions.or(file.instructions),
            read_timeout: args.read_timeout.or(file.read_timeout),
            demo_delay: None,
        }
    }

    /// Paces the demo provider (ignored by the others).
    pub(crate) fn demo_delay(mut self, delay: Option<Duration>) -> Self {
        self.demo_delay = delay;
        self
    }

    /// The provider, and a line for stderr saying which one was picked when
    /// the user did not say.
    fn provider(&self) -> (Arc<dyn Provider>, Option<String>) {
        let openai = || {
            let mut config = OpenAiConfig::from_env();
            if let Some(url) = &self.base_url {
                config = config.base_url(url.clone());
            }
            if let Some(timeout) = self.read_timeout {
                config = config.read_timeout(timeout);
            }
            config
        };
        let (provider, announce): (Arc<dyn Provider>, _) = match self.kind {
            ProviderKind::Demo => (
                Arc::new(self.demo_delay.map_or_else(Demo::new, Demo::with_delay)),
                "using the offline demo provider (set OPENAI_API_KEY or OPENAI_BASE_URL, \
                 or pass --provider, for a model)"
                    .to_owned(),
            ),
            ProviderKind::OpenaiChat => {
                let config = openai();
                let line = format!("using openai-chat at {}", config.base_url);
                (Arc::new(OpenAiChat::new(config)), line)
            }
            ProviderKind::OpenaiResponses => {
                let config = openai();
                let line = format!("using openai-responses at {}", config.base_url);
                (Arc::new(OpenAiResponses::new(config)), line)
            }
            ProviderKind::Anthropic => {
                let config = AnthropicConfig::from_env();
                let config = match &self.base_url {
                    Some(url) => config.base_url(url.clone()),
                    None => config,
                };
                let line = format!("using anthropic at {}", config.base_url);
                (Arc::new(Anthropic::new(config)), line)
            }
        };
        (provider, (!self.named).then_some(announce))
    }

    /// An agent named `name` on this provider, announcing the provider on
    /// stderr when it was picked by default.
    pub(crate) fn agent(&self, name: Option<String>) -> Agentor {
        self.agent_with_tools(name, Vec::new())
    }

    /// [`ProviderChoice::agent`], with `tools`.
    pub(crate) fn agent_with_tools(&self, name: Option<String>, tools: Vec<Tool>) -> Agentor {
        let (provider, announce) = self.provider();
        if let Some(line) = announce {
            eprintln!("agentor: {line}");
        }
        let mut builder = Agentor::builder().shared_provider(provider);
        if let Some(name) = name {
            builder = builder.name(name);
        }
        match (&self.model, self.kind) {
            (Some(model), _) => builder = builder.model(model.clone()),
            // No model named: the Anthropic provider picks `ANTHROPIC_MODEL`
            // or its default, where the builder would pick an OpenAI model.
            (None, ProviderKind::Anthropic) => builder = builder.model(""),
            (None, _) => {}
        }
        if let Some(instructions) = &self.instructions {
            builder = builder.instructions(instructions.clone());
        }
        for tool in tools {
            builder = builder.tool(tool);
        }
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_a_base_url_implies_openai() {
        let args = ProviderArgs {
            model: Some("flag".into()),
            ..ProviderArgs::default()
        };
        let file = ProviderConfig {
            model: Some("file".into()),
            base_url: Some("http://127.0.0.1:9/v1".into()),
            ..ProviderConfig::default()
        };
        let choice = ProviderChoice::resolve(args, file);
        assert_eq!(choice.model.as_deref(), Some("flag"));
        assert_eq!(choice.kind, ProviderKind::OpenaiChat);
        assert!(!choice.named);
        let (provider, announce) = choice.provider();
        assert_eq!(provider.name(), OpenAiChat::new(OpenAiConfig::new()).name());
        assert!(announce.unwrap().contains("http://127.0.0.1:9/v1"));

        let named = ProviderChoice::resolve(
            ProviderArgs {
                provider: Some(ProviderKind::Demo),
                ..ProviderArgs::default()
            },
            ProviderConfig::default(),
        );
        let (provider, announce) = named.provider();
        assert_eq!((provider.name(), announce), ("demo", None));
    }

    #[test]
    fn anthropic_is_a_provider_and_takes_the_base_url() {
        let choice = ProviderChoice::resolve(
            ProviderArgs {
                provider: Some(ProviderKind::Anthropic),
                base_url: Some("http://127.0.0.1:9".into()),
                ..ProviderArgs::default()
            },
            ProviderConfig::default(),
        );
        let (provider, announce) = choice.provider();
        assert_eq!((provider.name(), announce), ("anthropic", None));
        // No model named: the provider's default answers, not an OpenAI model.
        assert_eq!(choice.agent(None).model(), "");
        let file: crate::config::Config =
            crate::config::Config::parse("[provider]\nkind = \"anthropic\"\n").unwrap();
        assert_eq!(file.provider.kind, Some(ProviderKind::Anthropic));
    }
}
