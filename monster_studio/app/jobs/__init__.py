"""The app's jobs: plain generator functions `job(ctx, *args)` that the runner runs on its thread
and whose yields it re-emits. Each imports the engine (torch) inside, on that thread, never on the
window's. They are tested by iterating them directly, without a QThread.

`doing` on a job names what it does, for the sentence an unexpected failure becomes."""


def doing(words: str):
    def mark(job):
        job.doing = words
        return job
    return mark
