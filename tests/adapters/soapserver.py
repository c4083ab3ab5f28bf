"""A tiny document/literal SOAP 1.1 service for the SOAP adapter's unit tests (the sandbox has the real ones).

``QueryItems(since: dateTime, pageNo: int, pageSize: int) → {total, items{item*}}`` and
``SubmitItems(items{item*}) → {receiptNo, results{result*}}``; a UsernameToken with password
``right`` is required, anything else is a ``wsse:FailedAuthentication`` fault.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from tests.adapters.conftest import Answer, Seen

NS = "urn:jnx:test:items"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"

WSDL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:jnx:test:items" targetNamespace="urn:jnx:test:items">
 <types><xs:schema targetNamespace="urn:jnx:test:items" elementFormDefault="qualified">
  <xs:complexType name="Item"><xs:sequence>
   <xs:element name="id" type="xs:string"/><xs:element name="name" type="xs:string"/>
   <xs:element name="modified" type="xs:dateTime"/></xs:sequence></xs:complexType>
  <xs:complexType name="Result"><xs:sequence>
   <xs:element name="index" type="xs:int"/><xs:element name="status" type="xs:string"/>
   <xs:element name="reason" type="xs:string" minOccurs="0"/></xs:sequence></xs:complexType>
  <xs:element name="QueryItems"><xs:complexType><xs:sequence>
   <xs:element name="since" type="xs:dateTime"/><xs:element name="pageNo" type="xs:int"/>
   <xs:element name="pageSize" type="xs:int"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="QueryItemsResponse"><xs:complexType><xs:sequence>
   <xs:element name="total" type="xs:int"/>
   <xs:element name="items"><xs:complexType><xs:sequence>
    <xs:element name="item" type="t:Item" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
  <xs:element name="SubmitItems"><xs:complexType><xs:sequence>
   <xs:element name="item" type="t:Item" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="SubmitItemsResponse"><xs:complexType><xs:sequence>
   <xs:element name="receiptNo" type="xs:string"/>
   <xs:element name="result" type="t:Result" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>
 </xs:schema></types>
 <message name="QueryIn"><part name="parameters" element="t:QueryItems"/></message>
 <message name="QueryOut"><part name="parameters" element="t:QueryItemsResponse"/></message>
 <message name="SubmitIn"><part name="parameters" element="t:SubmitItems"/></message>
 <message name="SubmitOut"><part name="parameters" element="t:SubmitItemsResponse"/></message>
 <portType name="ItemsPort">
  <operation name="QueryItems"><input message="t:QueryIn"/><output message="t:QueryOut"/></operation>
  <operation name="SubmitItems"><input message="t:SubmitIn"/><output message="t:SubmitOut"/></operation>
 </portType>
 <binding name="ItemsBinding" type="t:ItemsPort"><soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>
  <operation name="QueryItems"><soap:operation soapAction="QueryItems"/>
   <input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
  <operation name="SubmitItems"><soap:operation soapAction="SubmitItems"/>
   <input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
 </binding>
 <service name="ItemsService"><port name="ItemsPort" binding="t:ItemsBinding">
  <soap:address location="http://127.0.0.1:1/ws"/></port></service>
</definitions>"""

ENV = '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}</s:Body></s:Envelope>'


def fault(code: str, text: str) -> Answer:
    body = ENV.format(f"<s:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring></s:Fault>")
    return Answer(500, body.encode(), {"Content-Type": "text/xml; charset=utf-8"})


def items_service(rows: list[tuple[str, str, str]], *, password: str = "right") -> Callable[[Seen], Answer]:
    """The service over ``rows`` of (id, name, modified), ordered by modified."""

    def answer(seen: Seen) -> Answer:
        if seen.method == "GET":
            return Answer(200, WSDL.encode(), {"Content-Type": "text/xml"})
        root = etree.fromstring(seen.body)
        given = root.findtext(f".//{{{WSSE}}}Password")
        if given != password:
            return fault("wsse:FailedAuthentication", "认证失败: 用户名或密码错误 (AUTH_FAILED)")
        body = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
        if body.tag == f"{{{NS}}}SubmitItems":
            results = "".join(
                f"<t:result><t:index>{i}</t:index><t:status>{'rejected' if 'bad' in item.findtext(f'{{{NS}}}name') else 'accepted'}"
                f"</t:status></t:result>"
                for i, item in enumerate(body.findall(f"{{{NS}}}item"))
            )
            xml = f'<t:SubmitItemsResponse xmlns:t="{NS}"><t:receiptNo>R-1</t:receiptNo>{results}</t:SubmitItemsResponse>'
            return Answer(200, ENV.format(xml).encode(), {"Content-Type": "text/xml; charset=utf-8"})
        since = body.findtext(f"{{{NS}}}since")
        page, size = int(body.findtext(f"{{{NS}}}pageNo")), int(body.findtext(f"{{{NS}}}pageSize"))
        chosen = [r for r in rows if r[2] >= since]
        items = "".join(
            f"<t:item><t:id>{i}</t:id><t:name>{n}</t:name><t:modified>{m}</t:modified></t:item>"
            for i, n, m in chosen[(page - 1) * size : page * size]
        )
        xml = f'<t:QueryItemsResponse xmlns:t="{NS}"><t:total>{len(chosen)}</t:total><t:items>{items}</t:items></t:QueryItemsResponse>'
        return Answer(200, ENV.format(xml).encode(), {"Content-Type": "text/xml; charset=utf-8"})

    return answer
