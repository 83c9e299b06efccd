"""The example shop's orders: each new order is fulfilled by the "order" workflow."""
