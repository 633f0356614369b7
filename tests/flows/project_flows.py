"""Same-named flows in two projects, and a fully qualified cross-project trigger."""

from headwater.flows import FlowSpec, current, project, step, trigger_on_finish


@project(name="alpha")
class Up(FlowSpec):
    @step
    def start(self):
        self.where = current.project_name
        self.next(self.end)

    @step
    def end(self):
        pass


@project(name="alpha")
@trigger_on_finish(flow="Up")
class Down(FlowSpec):
    @step
    def start(self):
        self.got = current.trigger.run.data.where
        self.next(self.end)

    @step
    def end(self):
        pass


@project(name="beta")
@trigger_on_finish(flow="alpha.test.main.Up")
class Cross(FlowSpec):
    @step
    def start(self):
        self.got = current.trigger.run.data.where
        self.next(self.end)

    @step
    def end(self):
        pass
