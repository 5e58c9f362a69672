"""nocturna's ASCOM Alpaca server: any nocturna device, to any Alpaca client.

* :mod:`.runner`: :class:`~nocturna.alpaca.runner.AlpacaServer` (foreground, the CLI's
  ``nocturna alpaca serve``) and :func:`~nocturna.alpaca.runner.start_in_thread`;
* :mod:`.app`: the ASGI application (routing, parameters, errors, 400 rules);
* :mod:`.kinds`: the member tables, one module per device type;
* :mod:`.imagearray`, :mod:`.management`, :mod:`.setuppages`, :mod:`.discovery`.
"""
