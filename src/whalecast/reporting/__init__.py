"""What a person reads (the report stage and make docs): the summary, the headline metrics and the README's
digest (report), and the static figures (figures). Builds on whalecast.evaluation."""
