"""The programme page: every company's engagement with the centre and the work under way, for those who run it."""
