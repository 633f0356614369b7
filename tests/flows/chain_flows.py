"""A four-stage chain and a fan-out/fan-in, wired with @trigger_on_finish."""

from headwater.flows import Flow, FlowSpec, Parameter, current, step, trigger_on_finish


class Ingest(FlowSpec):
    size = Parameter("size", default=3)

    @step
    def start(self):
        self.rows = list(range(self.size))
        self.next(self.end)

    @step
    def end(self):
        pass


@trigger_on_finish(flow="Ingest")
class Process(FlowSpec):
    @step
    def start(self):
        up = current.trigger.run
        self.upstream = up.pathspec
        self.doubled = [r * 2 for r in up.data.rows]
        self.next(self.end)

    @step
    def end(self):
        pass


@trigger_on_finish(flow="Process")
class Train(FlowSpec):
    @step
    def start(self):
        self.model = sum(current.trigger["Process"].data.doubled)
        self.next(self.end)

    @step
    def end(self):
        pass


@trigger_on_finish(flow="Train")
class Deploy(FlowSpec):
    @step
    def start(self):
        run = current.trigger.run
        self.deployed = run.data.model
        self.from_flow = run.parent.flow_name
        self.next(self.end)

    @step
    def end(self):
        pass


class Source(FlowSpec):
    @step
    def start(self):
        self.base = 10
        self.next(self.end)

    @step
    def end(self):
        pass


@trigger_on_finish(flow="Source")
class Left(FlowSpec):
    @step
    def start(self):
        self.value = current.trigger.run.data.base + 1
        self.next(self.end)

    @step
    def end(self):
        pass


@trigger_on_finish(flow="Source")
class Right(FlowSpec):
    @step
    def start(self):
        self.value = current.trigger.run.data.base + 2
        self.next(self.end)

    @step
    def end(self):
        pass


@trigger_on_finish(flows=["Left", "Right"], require="all")
class Merge(FlowSpec):
    @step
    def start(self):
        self.total = (
            Flow("Left").latest_successful_run.data.value
            + Flow("Right").latest_successful_run.data.value
        )
        self.upstreams = sorted(r.flow_name for r in current.trigger.runs)
        self.next(self.end)

    @step
    def end(self):
        pass
