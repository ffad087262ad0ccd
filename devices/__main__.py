from devices.cli import main

raise SystemExit(main())
