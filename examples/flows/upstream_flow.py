"""An upstream flow: `python upstream_flow.py run --size 5`."""

from headwater.flows import FlowSpec, Parameter, step


class UpstreamFlow(FlowSpec):
    size = Parameter("size", default=3, help="how many rows")

    @step
    def start(self):
        self.rows = list(range(self.size))
        self.next(self.end)

    @step
    def end(self):
        print("rows:", self.rows)


if __name__ == "__main__":
    UpstreamFlow()
