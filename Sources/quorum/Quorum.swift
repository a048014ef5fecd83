import ArgumentParser

/// The `quorum` command tree. Commands are grouped in `--help` by who runs them.
struct Quorum: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quorum",
        abstract: "Quorum: an active-learning annotation pipeline.",
        discussion: """
            A model pre-labels a pool of items, a sampler picks what people should label next, \
            annotators label in a terminal loop, answers become consensus labels, and consensus \
            labels are frozen into versioned snapshots. Every command takes --project DIR \
            (default: $QUORUM_PROJECT, else the current directory).
            """,
        version: "0.1.0",
        groupedSubcommands: [
            CommandGroup(name: "Annotation lead", subcommands: [
                Init.self, Import.self, Round.self, Status.self, Consensus.self, Adjudicate.self, ReportCommand.self, Annotators.self, Serve.self,
                Audit.self, Redact.self, Upgrade.self, Migrate.self, Check.self, SettingsCommand.self, Drift.self, Incidents.self,
            ]),
            CommandGroup(name: "Annotator", subcommands: [Label.self]),
            CommandGroup(name: "ML engineer", subcommands: [Train.self, Models.self, Predictions.self, Snapshot.self, Simulate.self, Doctor.self]),
        ]
    )
}
