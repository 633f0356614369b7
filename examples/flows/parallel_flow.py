"""A Metaflow-style fan-out: `python parallel_flow.py run --max-workers 8`.

`FAIL_ON=3 python parallel_flow.py run` fails at item 3 (after its retries); then
`python parallel_flow.py resume` reruns only that item and what follows it.

Written as for Metaflow; only the import line differs. The foreach items run in parallel (at
most --max-workers at a time), a flaky step is retried, a failing one is caught, a slow one
is stopped by its timeout.
"""

import os
import time

from headwater.flows import FlowSpec, Parameter, catch, retry, step, timeout


class ParallelFlow(FlowSpec):
    width = Parameter("width", default=8, help="how many items to fan out over")

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.square, foreach="items")

    @retry(times=2, minutes_between_retries=0)
    @timeout(minutes=5)
    @step
    def square(self):
        if str(self.input) == os.environ.get("FAIL_ON"):
            raise ValueError(f"item {self.input} fails")
        time.sleep(0.1)
        self.value = self.input * self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.check)

    @catch(var="check_error")
    @step
    def check(self):
        if self.total < 0:
            raise ValueError("a negative total")
        self.next(self.end)

    @step
    def end(self):
        print("total:", self.total, "check error:", self.check_error)


if __name__ == "__main__":
    ParallelFlow()
