"""The sending inventory: IPs, pools and sending domains, and each IP's lifecycle (``IpState``)."""
