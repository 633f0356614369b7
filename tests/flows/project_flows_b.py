"""Project beta's flows named like project alpha's."""

from headwater.flows import FlowSpec, current, project, step, trigger_on_finish


@project(name="beta")
class Up(FlowSpec):
    @step
    def start(self):
        self.where = current.project_name
        self.next(self.end)

    @step
    def end(self):
        pass


@project(name="beta")
@trigger_on_finish(flow="Up")
class Down(FlowSpec):
    @step
    def start(self):
        self.got = current.trigger.run.data.where
        self.next(self.end)

    @step
    def end(self):
        pass
