"""Smart-locker boards (serial): the frame codec, a pyserial backend and a simulator."""
