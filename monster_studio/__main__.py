from monster_studio.cli import main

raise SystemExit(main())
