"""A Ray node lost under a stage is said naming the node; any other error is left alone."""

import ray.exceptions

from pipelines.cli.node_loss import lost_node

NODE = "921faf4943d80ad3aa59c97a98beee869985a509aeb96390879c441b"
# What Ray 2.60 raised when tests/integration/ray/test_node_loss.py killed a node's raylet
RAY_TEXT = (f"The actor died unexpectedly before finishing this task.\n\tclass_name: FooterReader\n\t"
            f"ip: 192.0.2.2\nThe actor died because its node has died. Node Id: {NODE}\n\tthe actor's "
            "node was terminated unexpectedly: health check failed due to missing too many heartbeats")


def test_the_node_is_named_from_anywhere_in_the_error_chain() -> None:
    try:
        try:
            raise ray.exceptions.RayError(RAY_TEXT)
        except ray.exceptions.RayError as inner:
            raise RuntimeError("Ray Data's executor failed") from inner
    except RuntimeError as outer:
        message = lost_node(outer)
    assert message is not None
    assert message.startswith(f"Ray lost node {NODE} (192.0.2.2) while the stage ran (The actor died")
    assert "run the same command again" in message


def test_other_errors_are_not_node_losses() -> None:
    assert lost_node(ValueError("bad value")) is None
    assert lost_node(ray.exceptions.RayError(f"object lost; Node Id: {NODE} is alive")) is None
